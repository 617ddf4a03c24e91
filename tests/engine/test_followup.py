"""Follow-up — the assembly's opinion is then to be applied by elected officials: those bound to apply an
adopted decision say, dated and public, whether it is; nobody saying so for a month brings it up once."""

from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta

from bot.engine import transitions
from bot.engine.due import RemindFollowUp, due_work, next_due_at
from bot.engine.model import FollowUpStatus, RuleViolation, SocialCode, State
from bot.engine.rules import followup_reminder_at

from .support import CODE, THURSDAY_DEADLINE, blocked, closed, paris, proposed

MAYOR = "mayor"
NOTHING_SENT = frozenset()
ADOPTED = closed(proposed())
A_WEEK_LATER = THURSDAY_DEADLINE + timedelta(days=7)


def follow_up(proposal=ADOPTED, status=FollowUpStatus.IN_PROGRESS, progress=None, note="The works start in May.",
              may=True, at=A_WEEK_LATER):
    return transitions.follow_up(proposal, MAYOR, may, status, progress, note, at)


def test_a_follow_up_is_dated_and_kept_with_every_earlier_one():
    first = follow_up(progress=40).proposal
    second = follow_up(first, FollowUpStatus.APPLIED, note="Done.", at=A_WEEK_LATER + timedelta(days=20)).proposal
    assert [(f.status, f.progress, f.note) for f in second.followups] == [
        (FollowUpStatus.IN_PROGRESS, 40, "The works start in May."), (FollowUpStatus.APPLIED, 100, "Done.")]
    assert second.followups[0].at == A_WEEK_LATER and second.followups[0].member == MAYOR
    assert second.state is State.ADOPTED  # following a decision up never changes the decision


def test_the_history_records_who_followed_up_with_the_status_the_progress_and_the_note():
    [change] = follow_up(progress=40).changes
    assert (change.member, change.detail, change.argument) == (MAYOR, "in_progress 40", "The works start in May.")


def test_only_an_adopted_decision_is_followed_up():
    for proposal in (proposed(), blocked(proposed())):
        with pytest.raises(RuleViolation) as refused:
            follow_up(proposal)
        assert refused.value.code == "followup_not_adopted"


def test_only_those_in_charge_of_follow_up_may_give_one():
    with pytest.raises(RuleViolation) as refused:
        follow_up(may=False)
    assert refused.value.code == "followup_not_allowed"


def test_a_follow_up_needs_a_note():
    with pytest.raises(RuleViolation) as refused:
        follow_up(note=" … ")
    assert refused.value.code == "followup_note_required"


def test_applied_means_all_done_and_not_started_means_nothing_done():
    assert follow_up(status=FollowUpStatus.APPLIED).proposal.followups[-1].progress == 100
    assert follow_up(status=FollowUpStatus.NOT_STARTED).proposal.followups[-1].progress == 0
    assert follow_up(status=FollowUpStatus.NOT_APPLIED).proposal.followups[-1].progress is None
    for status, progress in ((FollowUpStatus.APPLIED, 40), (FollowUpStatus.NOT_STARTED, 10)):
        with pytest.raises(RuleViolation) as refused:
            follow_up(status=status, progress=progress)
        assert refused.value.code == "progress_contradicts"


def test_a_progress_is_a_percentage():
    with pytest.raises(RuleViolation) as refused:
        follow_up(progress=140)
    assert refused.value.code == "progress_bounds"


def test_nobody_following_a_decision_up_for_thirty_days_brings_it_up_once():
    due = THURSDAY_DEADLINE + timedelta(days=30)
    assert followup_reminder_at(ADOPTED, CODE) == due
    assert next_due_at(ADOPTED, CODE, NOTHING_SENT) == due
    assert due_work(ADOPTED, due - timedelta(seconds=1), CODE, NOTHING_SENT) is None
    assert due_work(ADOPTED, due, CODE, NOTHING_SENT) == RemindFollowUp(1)
    reminded = transitions.remind_followup(ADOPTED, due).proposal
    assert due_work(reminded, due + timedelta(days=60), CODE, NOTHING_SENT) is None
    assert next_due_at(reminded, CODE, NOTHING_SENT) is None


def test_a_decision_followed_up_in_time_is_not_brought_up():
    followed = follow_up().proposal
    assert next_due_at(followed, CODE, NOTHING_SENT) is None
    assert due_work(followed, THURSDAY_DEADLINE + timedelta(days=31), CODE, NOTHING_SENT) is None


def test_the_delay_is_counted_on_the_assembly_s_calendar_and_may_be_turned_off():
    monthly = SocialCode(followup_reminder=relativedelta(months=1))
    assert followup_reminder_at(closed(proposed(code=monthly), code=monthly), monthly) == paris(2026, 4, 5, 9)
    never = SocialCode(followup_reminder=None)
    assert next_due_at(closed(proposed(code=never), code=never), never, NOTHING_SENT) is None
