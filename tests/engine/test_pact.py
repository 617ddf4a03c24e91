"""The pact (pacte démocratique): elected officials refer their questions to the assembly; the assembly's opinion
binds them; what they did is recorded by the assembly, they may say their own word, and the assembly judges — by
a verdict decided like any proposal — never the officials themselves."""

from dataclasses import replace
from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta

from bot.engine import pact, transitions
from bot.engine.due import RemindApplication, due_work, next_due_at
from bot.engine.model import Action, Assessment, Position, Rule, SocialCode, State
from bot.engine.rules import application_reminder_at

from .support import (ARGUMENT, CODE, MONDAY_MORNING, THURSDAY_DEADLINE, blocked, closed, next_round,
                      paris, proposed, refusal, vote)

MAYOR = "mayor"  # an official's id, as the configuration declares it
DEPUTY = "deputy"
FACILITATOR = "fay"
NOTHING_SENT = frozenset()
A_WEEK_LATER = THURSDAY_DEADLINE + timedelta(days=7)


def referred(needed_by: date | None = None, at=MONDAY_MORNING, code: SocialCode = CODE, by: str = MAYOR):
    return pact.refer(1, "Close the street to cars on Sundays", "From May to September.", MAYOR, needed_by, by, at,
                      code)


DECISION = closed(referred().proposal)


# --- Referral ------------------------------------------------------------------------------------------------


def test_an_official_refers_a_question_and_is_bound_by_the_opinion():
    step = referred()
    proposal = step.proposal
    assert proposal.referral.official == MAYOR and proposal.bound == (MAYOR,)
    assert proposal.current_round.deadline == THURSDAY_DEADLINE  # the same 72 working hours as any proposal
    assert [c.action for c in step.changes] == [Action.PROPOSED, Action.BOUND]


def test_a_facilitator_may_refer_a_question_on_an_official_s_behalf():
    proposal = referred(by=FACILITATOR).proposal
    assert (proposal.proposer, proposal.referral.official, proposal.bound) == (FACILITATOR, MAYOR, (MAYOR,))


def test_the_day_the_official_needs_the_opinion_by_must_leave_members_their_time_to_answer():
    assert referred(needed_by=date(2026, 3, 5)).proposal.referral.needed_by == date(2026, 3, 5)  # Thursday 09:00
    refused = refusal(referred, needed_by=date(2026, 3, 4))  # Wednesday: the 72 working hours end on Thursday
    assert refused.code == "needed_too_soon" and refused.params["deadline"] == THURSDAY_DEADLINE


def test_a_referral_s_date_is_counted_on_the_assembly_s_calendar():
    # Posted on Friday 1 May 2026, Labour Day: neither it nor the weekend counts, so the 72 working hours run from
    # Monday 4 May at midnight to the end of Wednesday 6 May.
    friday = paris(2026, 5, 1, 10)
    assert pact.refer(1, "t", "", MAYOR, date(2026, 5, 6), MAYOR, friday, CODE).proposal.current_round.deadline \
        == paris(2026, 5, 7)
    assert refusal(pact.refer, 1, "t", "", MAYOR, date(2026, 5, 5), MAYOR, friday, CODE).code == "needed_too_soon"


# --- Who is bound --------------------------------------------------------------------------------------------


def test_facilitators_add_and_remove_the_officials_bound_publicly():
    bound = pact.bind(DECISION, DEPUTY, FACILITATOR, True, A_WEEK_LATER)
    assert bound.proposal.bound == (MAYOR, DEPUTY)
    assert [(c.action, c.member, c.detail) for c in bound.changes] == [(Action.BOUND, FACILITATOR, DEPUTY)]
    unbound = pact.unbind(bound.proposal, MAYOR, FACILITATOR, True, A_WEEK_LATER)
    assert unbound.proposal.bound == (DEPUTY,)
    assert [(c.action, c.detail) for c in unbound.changes] == [(Action.UNBOUND, MAYOR)]


def test_only_a_facilitator_binds_and_only_a_question_or_a_decision_in_force():
    assert refusal(pact.bind, DECISION, DEPUTY, "bob", False, A_WEEK_LATER).code == "facilitator_only"
    assert refusal(pact.bind, DECISION, MAYOR, FACILITATOR, True, A_WEEK_LATER).code == "already_bound"
    assert refusal(pact.unbind, DECISION, DEPUTY, FACILITATOR, True, A_WEEK_LATER).code == "not_bound"
    withdrawn = transitions.withdraw_proposal(proposed(), "alice", False, MONDAY_MORNING).proposal
    assert refusal(pact.bind, withdrawn, DEPUTY, FACILITATOR, True, A_WEEK_LATER).code == "not_bindable"
    assert pact.bind(proposed(), DEPUTY, FACILITATOR, True, MONDAY_MORNING).proposal.bound == (DEPUTY,)


# --- Facts recorded by the assembly, statements by the officials -----------------------------------------------


def fact(decision=DECISION, official=MAYOR, text="Signed the order closing the street.", on=date(2026, 3, 10),
         source="https://lille.fr/deliberations/2026-117", at=A_WEEK_LATER + timedelta(days=5)):
    return pact.record_fact(decision, official, "bob", text, on, source, at, at.date())


def test_any_member_records_what_an_official_did_dated_sourced_and_kept():
    first = fact().proposal
    second = fact(first, text="Put up the signs.", on=None, source="").proposal
    assert [(f.official, f.member, f.text, f.happened_on, f.source) for f in second.facts] == [
        (MAYOR, "bob", "Signed the order closing the street.", date(2026, 3, 10),
         "https://lille.fr/deliberations/2026-117"),
        (MAYOR, "bob", "Put up the signs.", None, "")]
    [change] = fact().changes
    assert (change.action, change.member, change.detail, change.argument) == (
        Action.FACT_RECORDED, "bob", MAYOR, "Signed the order closing the street.")
    assert second.state is State.ADOPTED  # recording a fact never changes the decision


def test_a_fact_is_about_an_official_bound_to_a_decision_in_force_and_says_something():
    assert refusal(fact, official=DEPUTY).code == "not_bound"
    assert refusal(fact, decision=referred().proposal).code == "not_a_decision"  # not decided yet
    assert refusal(fact, text=" … ").code == "fact_required"
    assert refusal(fact, on=(A_WEEK_LATER + timedelta(days=6)).date()).code == "fact_ahead"
    repealed = replace(DECISION, state=State.REPEALED)
    assert fact(decision=repealed).proposal.facts  # what was done while it was in force is still recorded


def test_an_official_s_statement_is_their_word_not_the_assembly_s_record():
    step = pact.make_statement(DECISION, MAYOR, "@mayor:lille.fr", "Done: the street is closed every Sunday.",
                               A_WEEK_LATER)
    [statement] = step.proposal.statements
    assert (statement.official, statement.member, statement.text) == (
        MAYOR, "@mayor:lille.fr", "Done: the street is closed every Sunday.")
    assert step.proposal.facts == ()  # a statement is never a fact the assembly recorded
    assert [(c.action, c.detail) for c in step.changes] == [(Action.STATEMENT_MADE, MAYOR)]
    assert refusal(pact.make_statement, DECISION, DEPUTY, "x", "Nothing.", A_WEEK_LATER).code == "not_bound"


# --- The verdict is the assembly's, taken by consent ------------------------------------------------------------


def verdict(assessment=Assessment.NOT_RESPECTED, reason="The street stayed open on two Sundays of three.",
            decision=DECISION, official=MAYOR, at=A_WEEK_LATER):
    return pact.propose_verdict(decision, 2, official, assessment, "Verdict: mayor on #1", reason, "carol", at, CODE)


def test_any_member_proposes_a_verdict_which_is_a_proposal_like_any_other():
    made, noted = verdict()
    proposal = made.proposal
    assert (proposal.number, proposal.proposer, proposal.state) == (2, "carol", State.OPEN)
    assert (proposal.verdict.decision, proposal.verdict.official, proposal.assessment) == (
        1, MAYOR, Assessment.NOT_RESPECTED)
    assert proposal.text == "The street stayed open on two Sundays of three."
    assert proposal.current_round.deadline == paris(2026, 3, 17, 9)  # 72 working hours from Thursday 09:00
    assert [(c.action, c.detail) for c in noted.changes] == [(Action.VERDICT_PROPOSED, "2")]


def test_a_verdict_needs_a_reason_and_judges_an_official_bound_to_a_decision():
    assert refusal(verdict, reason="  ").code == "reason_required"
    assert refusal(verdict, official=DEPUTY).code == "not_bound"
    assert refusal(verdict, decision=verdict()[0].proposal).code == "not_a_decision"  # no verdict on a verdict


def test_a_blocked_verdict_is_postponed_then_amended_and_adopted_like_any_proposal():
    proposal = verdict()[0].proposal
    postponed = closed(vote(proposal, "dan", Position.BLOCK, ARGUMENT))
    assert postponed.state is State.POSTPONED
    amended = transitions.amend(postponed, "carol", False, "Closed on most Sundays, open on one.", A_WEEK_LATER +
                                timedelta(days=4), Assessment.PARTLY_RESPECTED)
    assert amended.proposal.verdict.assessments == (Assessment.NOT_RESPECTED, Assessment.PARTLY_RESPECTED)
    assert amended.changes[0].detail == "partly_respected: Closed on most Sundays, open on one."
    again = next_round(amended.proposal, by="carol")
    assert again.assessment is Assessment.PARTLY_RESPECTED and again.current_round.version == 2
    adopted = closed(again)
    assert adopted.state is State.ADOPTED and adopted.assessment is Assessment.PARTLY_RESPECTED
    assert pact.verdict_in_force([postponed, adopted]) is adopted


def test_a_next_round_may_amend_a_verdict_s_assessment_alone():
    postponed = blocked(verdict()[0].proposal)
    again = next_round(postponed, by="carol")
    assert again.assessment is Assessment.NOT_RESPECTED and again.current_round.version == 1
    changed = transitions.open_next_round(postponed, "carol", False, postponed.current_round.opened_at + timedelta(
        days=7), CODE, assessment=Assessment.RESPECTED).proposal
    assert changed.assessment is Assessment.RESPECTED and changed.text == postponed.text


def test_escalation_applies_to_verdicts_too():
    proposal = verdict()[0].proposal
    proposal = blocked(next_round(blocked(proposal), by="carol"))
    assert next_round(proposal, by="carol").current_round.rule is Rule.MAJORITY


def test_only_an_adopted_verdict_judges_and_the_latest_adopted_revises_an_earlier_one():
    earlier = closed(verdict(Assessment.RESPECTED)[0].proposal)
    later = closed(replace(verdict(Assessment.NOT_RESPECTED, at=A_WEEK_LATER + timedelta(days=30))[0].proposal,
                           number=3))
    blocked_one = blocked(replace(verdict(Assessment.PARTLY_RESPECTED, at=A_WEEK_LATER + timedelta(days=60))[0]
                                  .proposal, number=4))
    assert pact.verdict_in_force([later, earlier, blocked_one]) is later
    assert pact.verdict_in_force([blocked_one]) is None
    assert pact.record_counts([Assessment.RESPECTED, Assessment.RESPECTED, Assessment.PARTLY_RESPECTED, None]) == {
        "respected": 2, "partly_respected": 1, "not_respected": 0, "none": 1}


# --- Reminders --------------------------------------------------------------------------------------------------


def test_a_decision_with_no_fact_recorded_after_the_delay_is_brought_up_once():
    due = THURSDAY_DEADLINE + timedelta(days=30)
    assert application_reminder_at(DECISION, CODE) == due
    assert next_due_at(DECISION, CODE, NOTHING_SENT) == due
    assert due_work(DECISION, due - timedelta(seconds=1), CODE, NOTHING_SENT) is None
    assert due_work(DECISION, due, CODE, NOTHING_SENT) == RemindApplication(1)
    reminded = transitions.remind_application(DECISION, due).proposal
    assert due_work(reminded, due + timedelta(days=60), CODE, NOTHING_SENT) is None
    assert next_due_at(reminded, CODE, NOTHING_SENT) is None


def test_a_fact_recorded_in_time_or_an_official_s_statement_alone():
    assert next_due_at(fact().proposal, CODE, NOTHING_SENT) is None  # a fact: nothing to remind
    stated = pact.make_statement(DECISION, MAYOR, MAYOR, "Done.", A_WEEK_LATER).proposal
    assert next_due_at(stated, CODE, NOTHING_SENT) == THURSDAY_DEADLINE + timedelta(days=30)  # their word is no fact


def test_neither_a_verdict_nor_a_challenge_is_a_decision_to_apply():
    adopted_verdict = closed(verdict()[0].proposal)
    assert application_reminder_at(adopted_verdict, CODE) is None
    challenge, _ = transitions.challenge(DECISION, 3, "bob", "Only in summer", "", "", A_WEEK_LATER, CODE)
    assert application_reminder_at(closed(challenge.proposal), CODE) is None


def test_the_delay_is_counted_on_the_assembly_s_calendar_and_may_be_turned_off():
    monthly = SocialCode(followup_reminder=relativedelta(months=1))
    assert application_reminder_at(closed(proposed(code=monthly), code=monthly), monthly) == paris(2026, 4, 5, 9)
    never = SocialCode(followup_reminder=None)
    assert next_due_at(closed(proposed(code=never), code=never), never, NOTHING_SENT) is None


@pytest.mark.parametrize("state", [State.POSTPONED, State.REJECTED, State.WITHDRAWN, State.REPEALED])
def test_only_an_adopted_decision_is_brought_up(state):
    assert application_reminder_at(replace(DECISION, state=state), CODE) is None


def test_the_official_a_verdict_judges_takes_no_position_on_it():
    proposal = verdict()[0].proposal
    assert refusal(pact.check_not_judged, proposal, MAYOR).code == "judged_official"
    pact.check_not_judged(proposal, DEPUTY)  # another official is a member like any other
    pact.check_not_judged(proposal, None)
    pact.check_not_judged(DECISION, MAYOR)  # on the decision itself, the official votes as any member
