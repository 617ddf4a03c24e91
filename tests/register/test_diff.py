"""What changed between two versions, as the register shows it: a text in numbered parts part by part, any other
line by line and word by word within a changed line; and what an adopted challenge did to the parts it named."""

from __future__ import annotations

from hypothesis import given, strategies as st

from bot.register.diff import Change, Op, Revision, changes, revision

KETTLE = "1. A kettle.\n2. Paid from the common fund."


def shown(found: tuple[Change, ...]) -> list[tuple[str, str, int | None]]:
    return [(c.op.value, c.text, c.part) for c in found]


def test_a_replaced_part_is_removed_and_added_whole_the_others_unchanged():
    assert shown(changes(KETTLE, "1. A kettle.\n2. Paid by donations.")) == [
        ("equal", "1. A kettle.\n", None), ("delete", "2. Paid from the common fund.", 2),
        ("insert", "2. Paid by donations.", 2)]


def test_a_part_replaced_in_the_middle_leaves_the_parts_around_it_whole():
    before = "Rules of the garden:\n1. Water on Mondays.\n2. Compost in the bin.\n3. Tools back in the shed."
    after = "Rules of the garden:\n1. Water on Mondays.\n2. Compost in the green bin, not the black one.\n" \
            "3. Tools back in the shed."
    assert shown(changes(before, after)) == [
        ("equal", "Rules of the garden:\n1. Water on Mondays.\n", None),
        ("delete", "2. Compost in the bin.\n", 2), ("insert", "2. Compost in the green bin, not the black one.\n", 2),
        ("equal", "3. Tools back in the shed.", None)]


def test_a_removed_part_is_removed_whole_and_the_others_keep_their_numbers():
    assert shown(changes("1. a\n2. b\n3. c", "1. a\n3. c")) == [
        ("equal", "1. a\n", None), ("delete", "2. b\n", 2), ("equal", "3. c", None)]
    # The last part removed: the line break before it goes with it (a change of no word, shown as nothing).
    assert shown(changes("Art. 1 a\nArt. 2 b\nArt. 3 c", "Art. 1 a\nArt. 2 b")) == [
        ("equal", "Art. 1 a\nArt. 2 b", None), ("delete", "\n", None), ("delete", "Art. 3 c", 3)]


def test_a_text_without_parts_changes_by_lines_then_by_words_within_a_changed_line():
    assert shown(changes("A van for the market, 80 € a day.", "A van for the market, 60 € a day.")) == [
        ("equal", "A van for the market, ", None), ("delete", "80", None), ("insert", "60", None),
        ("equal", " € a day.", None)]
    # Lines that did not change are never cut into words, wherever the changed ones are.
    assert shown(changes("We meet\non Mondays\nat the hall", "We meet\non Tuesdays\nat the hall\nwith tea")) == [
        ("equal", "We meet\non ", None), ("delete", "Mondays", None), ("insert", "Tuesdays", None),
        ("equal", "\nat the hall", None), ("insert", "\nwith tea", None)]


def test_a_line_rewritten_more_than_kept_is_removed_and_added_whole():
    before, after = "it stayed open one Sunday in three", "closed on most Sundays, open on one"
    assert shown(changes(before, after)) == [("delete", before, None), ("insert", after, None)]


def test_a_text_of_one_paragraph_starting_with_a_number_is_not_in_parts():
    assert shown(changes("1. Buy a kettle", "1. Buy a red kettle")) == [
        ("equal", "1. Buy a ", None), ("insert", "red ", None), ("equal", "kettle", None)]


@given(st.lists(st.sampled_from(["1. a\n", "2. b b\n", "3. c\n", "Art. 4 d\n", "x y\n", "5) e", "\n", "z"]),
                max_size=8),
       st.lists(st.sampled_from(["1. a\n", "2. B b\n", "3. c\n", "Art. 4 d\n", "x\n", "6) f", "\n", "y"]),
                max_size=8))
def test_the_changes_always_give_back_both_texts(before, after):
    before, after = "".join(before), "".join(after)
    found = changes(before, after)
    assert "".join(c.text for c in found if c.op is not Op.INSERT) == before
    assert "".join(c.text for c in found if c.op is not Op.DELETE) == after
    assert all(c.text for c in found)


def test_what_a_challenge_did_to_the_parts_it_named():
    assert revision(KETTLE, "1. A kettle.\n2. Paid by donations.", "2") == Revision(replaced=(2,))
    assert revision("1. a\n2. b\n3. c", "1. a\n2. x", "2-3") == Revision(replaced=(2,), removed=(3,))
    assert revision("1. a\n2. b\n3. c", "1. a\n3. c", "article 2") == Revision(removed=(2,))
    assert revision(KETTLE, "something else", "") is None  # the whole text
    assert revision(KETTLE, KETTLE + "\n\n[#6] the prices: less", "the prices") is None  # a part named otherwise
    assert revision("One paragraph.", "One paragraph.\n\n[#6] 2: more", "2") is None  # a text without parts
