"""Parts that are parts — a decision written in numbered parts ("1.", "2)", "Article 3") has the parts a challenge
names replaced when it is adopted, or removed when it gives no new text; a part that does not exist is refused,
naming those that do; a part named otherwise keeps today's way: the change is added after the text."""

import pytest

from bot.engine import transitions
from bot.engine.parts import numbered_parts, part_numbers, replaced

from .support import CODE, closed, paris, proposed, refusal

RULES = "1. Each washes their own cup.\n2. The kettle is descaled every month.\n3. The last out turns off the light."
ARTICLES = "Article 1 — Members.\nAnyone living here.\nArticle 2 — Meetings.\nOn Mondays.\nArt. 3 — Money.\nNone."
LATER = paris(2026, 9, 14, 10)


def adopted(text=RULES):
    return closed(proposed(text=text))


def challenged_and_adopted(decision, part, text):
    made, noted = transitions.challenge(decision, 2, "bob", "Hard water", text, part, LATER, CODE)
    return transitions.revise(noted.proposal, closed(made.proposal), LATER).proposal


def test_a_numbered_part_is_replaced_by_the_challenge_s_new_text_keeping_its_number():
    decision = challenged_and_adopted(adopted(), "2", "The kettle is descaled every week.")
    assert decision.text == ("1. Each washes their own cup.\n2. The kettle is descaled every week.\n"
                             "3. The last out turns off the light.")
    assert decision.versions[0] == RULES  # the former text is kept


@pytest.mark.parametrize(("part", "text", "expected"), [
    ("2-3", "2. Weekly.\n3. Lights off.", "1. Each washes their own cup.\n2. Weekly.\n3. Lights off."),
    ("1,3", "1. Cups in the sink.", "1. Cups in the sink.\n2. The kettle is descaled every month."),
    ("2", "", "1. Each washes their own cup.\n3. The last out turns off the light."),
    ("article 3", "Everyone turns off the lights.",
     "1. Each washes their own cup.\n2. The kettle is descaled every month.\n3. Everyone turns off the lights."),
])
def test_several_parts_are_replaced_or_removed(part, text, expected):
    assert challenged_and_adopted(adopted(), part, text).text == expected


def test_articles_are_parts_too_in_either_language():
    assert [p.number for p in numbered_parts(ARTICLES)] == [1, 2, 3]
    decision = challenged_and_adopted(adopted(ARTICLES), "2", "Meetings.\nOn Tuesdays.")
    assert decision.text == ("Article 1 — Members.\nAnyone living here.\nArticle 2 — Meetings.\nOn Tuesdays.\n"
                             "Art. 3 — Money.\nNone.")


def test_a_part_that_does_not_exist_is_refused_naming_the_parts_there_are():
    refused = refusal(transitions.challenge, adopted(), 2, "bob", "Hard water", "x", "4", LATER, CODE)
    assert refused.code == "no_such_part" and refused.params == {"part": "4", "parts": "1, 2, 3"}
    refused = refusal(transitions.challenge, adopted(), 2, "bob", "r", "2. a\n3. b", "2", LATER, CODE)
    assert refused.code == "new_part_not_named"
    refused = refusal(transitions.challenge, adopted(), 2, "bob", "r", "two new lines", "2-3", LATER, CODE)
    assert refused.code == "number_the_new_parts"


def test_a_part_named_otherwise_or_a_text_without_parts_keeps_the_change_after_the_text():
    decision = challenged_and_adopted(adopted(), "the paragraph on cups", "Cups go in the sink.")
    assert decision.text == RULES + "\n\n[#2] the paragraph on cups: Cups go in the sink."
    plain = challenged_and_adopted(adopted("We repaint the hall green."), "2", "Blue.")
    assert plain.text == "We repaint the hall green.\n\n[#2] 2: Blue."


def test_what_counts_as_parts_and_as_a_span_of_parts():
    assert numbered_parts("1. Only one part.") == []  # one numbered line is no text in parts
    assert numbered_parts("2. b\n1. a") == []  # not in order
    assert part_numbers("2-4, 7") == (2, 3, 4, 7) and part_numbers("Art. 2") == (2,)
    assert part_numbers("1-9999") is None and part_numbers("3-1") is None and part_numbers("the end") is None
    assert replaced(RULES, "9", "x") is None


def test_a_part_removed_leaves_its_number_out_and_the_parts_after_it_stay_parts():
    removed = challenged_and_adopted(adopted(), "2", "")
    assert [p.number for p in numbered_parts(removed.text)] == [1, 3]
    made, _ = transitions.challenge(removed, 3, "carol", "Light", "Lights stay on.", "3", LATER, CODE)
    assert transitions.revise(removed, closed(made.proposal), LATER).proposal.text == (
        "1. Each washes their own cup.\n3. Lights stay on.")
    refused = refusal(transitions.challenge, removed, 3, "bob", "Kettle", "x", "2", LATER, CODE)
    assert refused.params == {"part": "2", "parts": "1, 3"}
