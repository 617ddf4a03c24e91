"""The console end to end, as a newcomer runs it: the demo script piped into `consent-bot console --json`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).parent.parent / "examples" / "demo.txt"


def run_console(script: str, *arguments: str, cwd: Path | None = None) -> tuple[list[dict], str]:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--json", *arguments],
        input=script, capture_output=True, text=True, timeout=120, cwd=cwd,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()], result.stderr


def test_the_demo_runs_a_whole_cycle_to_a_two_thirds_adoption_a_refused_and_an_adopted_challenge():
    lines, prompts = run_console(DEMO.read_text(encoding="utf-8"), "--start", "2027-03-30T10:00+02:00")
    summary = [(line["kind"], line["proposal"], line["round"], line["rule"], line["state"]) for line in lines
               if line["kind"] in ("ballot", "outcome", "error")]
    assert summary == [
        ("ballot", 1, 1, "consent", "open"),
        ("outcome", 1, 1, "consent", "postponed"),
        ("ballot", 1, 2, "consent", "open"),
        ("outcome", 1, 2, "consent", "postponed"),
        ("ballot", 1, 3, "majority", "open"),
        ("outcome", 1, 3, "majority", "adopted"),
        ("error", 1, 3, "majority", "adopted"),
        ("ballot", 2, 1, "consent", "open"),
        ("outcome", 2, 1, "consent", "adopted"),
        ("ballot", 3, 1, "consent", "open"),
        ("outcome", 3, 1, "consent", "adopted"),
    ]
    majority_ballot = next(line for line in lines if line["kind"] == "ballot" and line["rule"] == "majority")
    assert "Le silence ne compte pas dans ce tour" in majority_ballot["text"]
    adopted = next(line for line in lines if line["kind"] == "outcome" and line["state"] == "adopted")
    assert adopted["tally"] == {"agree": 2, "abstain": 0, "disagree": 1, "block": 0, "unargued_block": 0}
    assert adopted["deadline"] == "2027-04-16T10:00:00+02:00"
    refused = next(line for line in lines if line["kind"] == "error")
    assert "16 juillet 2027" in refused["text"]
    challenge = next(line for line in lines if line["kind"] == "ballot" and line["proposal"] == 3)
    assert challenge["challenges"] == 2 and challenge["challenged_part"] == "2"
    before, after = [line for line in lines if line["kind"] == "status"]
    assert before["challenged_by"] == [3] and before["state"] == "adopted"
    # Its part 2 replaced, not followed by a second part 2: the text in force says one thing.
    assert after["amended_by"] == [3] and "chaque semaine" in after["text"] and "chaque mois" not in after["text"]
    assert "1. Chacun lave sa tasse." in after["text"]
    assert len([line for line in lines if line["kind"] == "reminder"]) == 10
    # Prompts and the banner go to standard error, never into the JSON stream.
    assert "alice>" in prompts


def test_every_output_line_carries_the_text_and_the_state_of_its_proposal():
    lines, _ = run_console("!propose Kettle\n!agree\n/advance 4d\n", "--start", "2027-06-08T10:00+02:00")
    assert [line["kind"] for line in lines] == ["ballot", "ack", "reminder", "reminder", "outcome"]
    for line in lines:
        assert line["proposal"] == 1 and line["text"]
        assert set(line["tally"]) == {"agree", "abstain", "disagree", "block", "unargued_block"}


def test_the_console_keeps_its_register_in_the_configured_database(tmp_path: Path):
    (tmp_path / "config.yaml").write_text("storage: {path: data/consent.db}\nassembly: {language: en}\n")
    first, _ = run_console("!propose Kettle\n", "--config", "config.yaml", "--start", "2027-06-08T10:00+02:00",
                           cwd=tmp_path)
    assert (tmp_path / "data" / "consent.db").exists()
    second, _ = run_console("!list\n", "--config", "config.yaml", cwd=tmp_path)
    assert "#1 Kettle: open" in second[0]["text"]


def test_the_console_keeps_its_register_in_the_configured_postgresql_database(tmp_path: Path, postgres_url: str):
    (tmp_path / "config.yaml").write_text(f"storage: {{url: '{postgres_url}'}}\nassembly: {{language: en}}\n")
    run_console("!propose Kettle\n", "--config", "config.yaml", "--start", "2027-06-08T10:00+02:00", cwd=tmp_path)
    second, _ = run_console("!list\n", "--config", "config.yaml", cwd=tmp_path)
    assert "#1 Kettle: open" in second[0]["text"]
    assert list(tmp_path.iterdir()) == [tmp_path / "config.yaml"]  # no SQLite file beside it


def test_console_mistakes_are_answered_on_standard_error():
    lines, prompts = run_console("/advance soon\n/dance\n", "--start", "2027-06-08T10:00+02:00")
    assert lines == []
    assert "/advance: 'soon' is not a duration" in prompts
    assert "Console commands:" in prompts


def test_the_console_shows_the_conversation_not_log_lines():
    _, prompts = run_console("/quit\n")
    assert "INFO" not in prompts and "applying migration" not in prompts


def test_huge_durations_and_invalid_utf8_get_an_answer_and_never_a_crash():
    script = b"!propose Kettle \xff\xfe for the hall\n/as b\xc3\n/advance 3000000d\n" + \
        b"/advance 3650d\n" * 300 + b"!list\n"
    result = subprocess.run([sys.executable, "-m", "bot", "console", "--json", "--start", "2027-06-08T10:00+02:00"],
                            input=script, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert lines[0]["kind"] == "ballot" and "Kettle \ufffd\ufffd for the hall" in lines[0]["text"]
    prompts = result.stderr.decode()
    assert "/advance: '3000000d' is too long: at most 3660d" in prompts
    assert "/advance: the clock stops at the end of 2999" in prompts
    assert "Traceback" not in prompts and lines[-1]["kind"] == "status"


def test_a_line_longer_than_a_pipe_may_bring_is_cut_answered_and_the_next_line_read():
    """Scripts pipe their lines: one of 3 MiB (past the console's 1 MiB a line) is refused as any too long text is,
    its rest dropped, and the session goes on."""
    lines, prompts = run_console("!propose Kettle\n!propose " + "x" * (3 << 20) + "\n!list\n", "--start",
                                 "2027-06-08T10:00+02:00")
    assert [line["kind"] for line in lines] == ["ballot", "error", "status"]
    assert "Traceback" not in prompts and "#1 Kettle" in lines[-1]["text"]


def test_the_pact_plays_on_the_console_from_a_referral_to_the_assembly_s_verdict():
    root = DEMO.parent
    lines, _ = run_console((root / "pact.txt").read_text(encoding="utf-8"), "--config", str(root / "pact.yaml"),
                           "--start", "2027-04-05T10:00+02:00")
    outcomes = [(line["proposal"], line["round"], line["state"]) for line in lines if line["kind"] == "outcome"]
    assert outcomes == [(1, 1, "adopted"), (2, 1, "postponed"), (2, 2, "adopted")]
    referral = next(line for line in lines if line["kind"] == "ballot" and line["proposal"] == 1)
    assert referral["referral"] == {"official": "martine", "needed_by": "2027-04-09"}
    assert [line["kind"] for line in lines if line["kind"] in ("fact", "statement")] == ["fact", "fact", "statement"]
    verdict = [line for line in lines if line["kind"] == "outcome" and line["proposal"] == 2][-1]
    assert verdict["verdict"] == {"decision": 1, "official": "martine", "assessment": "partly_respected"}
    assert "Le jugement de l'assemblée entre au registre de martine : sur la décision #1, partiellement respecté." \
        in verdict["text"]
    status = [line for line in lines if line["kind"] == "status"][-1]
    assert status["bound"] == ["martine", "paul"] and status["facts"] == 2
    assert "le jugement de l'assemblée : partiellement respecté (#2, adopté le jeudi 20 mai 2027, 24:00" in \
        status["text"]


def test_topics_delegation_on_a_subject_and_for_a_time_and_parts_play_on_the_console():
    root = DEMO.parent
    lines, _ = run_console((root / "subjects.txt").read_text(encoding="utf-8"), "--config",
                           str(root / "subjects.yaml"), "--start", "2027-06-08T10:00+02:00")
    outcomes = {line["proposal"]: line for line in lines if line["kind"] == "outcome"}
    assert [(n, o["state"]) for n, o in outcomes.items()] == [(1, "adopted"), (2, "adopted"), (3, "adopted"),
                                                              (4, "adopted")]
    assert outcomes[1]["topics"] == ["transport"] and outcomes[1]["delegated"]["disagree"] == 1
    assert "- avec carol (désaccord), par délégation sur les propositions sur Mobilités : alice" in outcomes[1]["text"]
    assert "- avec dan (d'accord), par délégation sur la proposition #3 : bob" in outcomes[3]["text"]
    [refused] = [line for line in lines if line["kind"] == "error"]
    assert "La décision n'a pas de partie 4 : ses parties sont 1, 2, 3." in refused["text"]
    assert "La partie 2 dit désormais :\n2. La bouilloire est détartrée chaque semaine." in outcomes[3]["text"]
    assert "La partie 3 est supprimée." in outcomes[4]["text"]
    decision = [line for line in lines if line["kind"] == "status" and line.get("proposal") == 2][-1]
    assert "1. Chacun lave sa tasse.\n2. La bouilloire est détartrée chaque semaine.\n" in decision["text"]
    assert "chaque mois" not in decision["text"] and "éteint" not in decision["text"]
    lapsed = [line for line in lines if line["kind"] == "delegation" and line["delegate"] is None]
    assert [(line["member"], line["scope"]) for line in lapsed] == [("alice", "topic:transport")]
    assert "comme vous l'aviez demandé, le mercredi 30 juin 2027, 24:00" in lapsed[0]["text"]
    assert "- à bob, sur toutes les propositions de ce salon : alice" in lines[-1]["text"]


def test_linked_rooms_play_on_the_console_one_joint_tally_a_block_in_one_room_postponing_all():
    root = DEMO.parent
    lines, _ = run_console((root / "network.txt").read_text(encoding="utf-8"), "--config",
                           str(root / "network.yaml"), "--start", "2027-06-08T10:00+02:00")
    ballots = [line for line in lines if line["kind"] == "ballot"]
    assert [(b.get("room", "console"), b["network"], b["proposal"], b["round"]) for b in ballots] == [
        ("console", "metropole", 1, 1), ("fives", "metropole", 1, 1), ("wazemmes", "metropole", 1, 1),
        ("console", "metropole", 1, 2), ("fives", "metropole", 1, 2), ("wazemmes", "metropole", 1, 2)]
    assert ballots[1]["text"].startswith("**Proposal #metropole-1 by bob: Un budget partagé")  # Fives: English
    [status] = [line for line in lines if line["kind"] == "status"]
    assert status["members"] == 5 and status["text"].splitlines()[-3:] == [
        "Moulins : 1 sur 2 membres.", "Fives : 2 sur 2 membres.", "Wazemmes : 1 sur 2 membres."]
    outcomes = [(line.get("room", "console"), line["round"], line["state"], line["members"])
                for line in lines if line["kind"] == "outcome"]
    assert outcomes == [("console", 1, "postponed", 5), ("fives", 1, "postponed", 5), ("wazemmes", 1, "postponed", 5),
                        ("console", 2, "adopted", 5), ("fives", 2, "adopted", 5), ("wazemmes", 2, "adopted", 5)]
    reminders = [line for line in lines if line["kind"] == "reminder" and line["round"] == 2]
    assert {(line.get("room", "console"), line["text"].splitlines()[1]) for line in reminders} == {
        ("console", "Pas encore de réponse : alice."), ("fives", "Not answered yet: carol."),
        ("wazemmes", "Pas encore de réponse : erin.")}
