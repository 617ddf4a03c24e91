"""Rule 7 — Lock: a decision taken by majority cannot be challenged or re-voted for majority_lock
(default 3 calendar months, relativedelta); the refusal says the date when it becomes possible."""

from datetime import timedelta, timezone

from dateutil.relativedelta import relativedelta

from bot.engine import transitions
from bot.engine.model import Position, Rule, SocialCode, State
from bot.engine.rules import majority_lock_until

from .support import ARGUMENT, CODE, PROPOSER, closed, majority_round, paris, proposed, refusal, vote

# Rounds open Mon 2, Mon 9 and Mon 16 March 2026 at 09:00; the third (majority) round closes on
# Thu 19 March 2026 09:00 CET. Three calendar months later, in Paris: Fri 19 June 2026 09:00 CEST.
DECIDED = paris(2026, 3, 19, 9)
UNTIL = paris(2026, 6, 19, 9)
UTC = timezone.utc


def adopted_by_majority():
    proposal = vote(vote(majority_round(), "bob", Position.AGREE), "carol", Position.AGREE)
    proposal = closed(vote(proposal, "dan", Position.DISAGREE))
    assert (proposal.state, proposal.current_round.rule) == (State.ADOPTED, Rule.MAJORITY)
    return proposal


def rejected_by_majority():
    proposal = closed(vote(vote(majority_round(), "bob", Position.AGREE), "dan", Position.DISAGREE))
    assert (proposal.state, proposal.current_round.rule) == (State.REJECTED, Rule.MAJORITY)
    return proposal


def test_the_majority_round_closes_when_we_say():
    assert majority_round().current_round.deadline == DECIDED


def test_a_majority_decision_is_locked_for_three_calendar_months():
    assert adopted_by_majority().locked_until == UNTIL
    assert rejected_by_majority().locked_until == UNTIL


def test_an_adoption_by_majority_cannot_be_challenged_during_the_lock_and_the_refusal_gives_the_date():
    violation = refusal(transitions.challenge, adopted_by_majority(), 9, "bob", "It was rushed.", "", "",
                        UNTIL - timedelta(seconds=1), CODE)
    assert violation.code == "locked"
    assert violation.params["until"] == UNTIL


def test_an_adoption_by_majority_may_be_challenged_once_the_lock_has_passed():
    made, noted = transitions.challenge(adopted_by_majority(), 9, "bob", "It was rushed.", "", "", UNTIL, CODE)
    assert (made.proposal.state, made.proposal.current_round.rule, made.proposal.challenges) == (
        State.OPEN, Rule.CONSENT, 1)
    assert noted.proposal.state is State.ADOPTED  # in force while its challenge is decided


def test_a_rejection_by_majority_cannot_be_voted_again_during_the_lock():
    for by, facilitator in ((PROPOSER, False), ("zoe", True)):
        violation = refusal(
            transitions.open_next_round, rejected_by_majority(), by, facilitator, UNTIL - timedelta(seconds=1), CODE
        )
        assert violation.code == "locked"
        assert violation.params["until"] == UNTIL


def test_a_rejection_by_majority_may_be_voted_again_once_the_lock_has_passed():
    step = transitions.open_next_round(rejected_by_majority(), PROPOSER, False, UNTIL, CODE, text="A smaller hall.")
    proposal = step.proposal
    assert (proposal.state, proposal.current_round.number, proposal.locked_until) == (State.OPEN, 4, None)
    # The rejection was not a block: the series of blocked rounds starts again with a consent round.
    assert proposal.current_round.rule is Rule.CONSENT
    assert proposal.text == "A smaller hall."


def test_a_consent_decision_is_not_locked():
    proposal = closed(proposed())
    assert proposal.locked_until is None
    made, _ = transitions.challenge(proposal, 9, "bob", "Too fast.", "", "", proposal.current_round.deadline, CODE)
    assert made.proposal.state is State.OPEN


def test_a_postponed_round_is_not_locked():
    proposal = closed(vote(proposed(), "bob", Position.BLOCK, ARGUMENT))
    assert proposal.locked_until is None


def test_the_lock_counts_calendar_months_in_the_assembly_time_zone_whatever_zone_the_clock_uses():
    # The same instant, written in UTC or in Paris, must lock until the same instant:
    # 19 March 09:00 Paris + 3 months = 19 June 09:00 Paris (07:00 UTC), not 19 June 08:00 UTC.
    assert majority_lock_until(DECIDED, CODE) == UNTIL
    assert majority_lock_until(DECIDED.astimezone(UTC), CODE) == UNTIL


def test_the_lock_ends_on_the_same_day_of_the_month_in_paris_even_near_midnight():
    # Sun 1 March 2026 00:30 in Paris is still Sat 28 February in UTC; three calendar months later is
    # 1 June 00:30 in Paris — not 28 May.
    decided = paris(2026, 3, 1, 0, 30)
    assert majority_lock_until(decided.astimezone(UTC), CODE) == paris(2026, 6, 1, 0, 30)


def test_calendar_months_end_on_the_last_day_of_a_shorter_month():
    # 30 November 2026 + 3 months = 28 February 2027 (no 30 February).
    assert majority_lock_until(paris(2026, 11, 30, 15), CODE) == paris(2027, 2, 28, 15)


def test_the_lock_duration_is_configurable():
    code = SocialCode(majority_lock=relativedelta(months=1))
    assert majority_lock_until(DECIDED, code) == paris(2026, 4, 19, 9)


def test_the_lock_runs_from_the_deadline_even_when_the_bot_closes_the_round_late():
    # The decision is taken at the deadline, Thursday 19 March 2026 09:00; the bot, offline, only closes
    # the round on Friday 20 March 11:00. The lock still ends three months after the deadline.
    proposal = vote(vote(majority_round(), "bob", Position.AGREE), "carol", Position.AGREE)
    assert proposal.current_round.deadline == paris(2026, 3, 19, 9)
    late = paris(2026, 3, 20, 11)
    proposal = transitions.close_round(proposal, 5, late, CODE, offline=True).proposal
    assert proposal.locked_until == paris(2026, 6, 19, 9)
