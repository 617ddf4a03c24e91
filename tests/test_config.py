import time
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from dateutil.relativedelta import relativedelta

from bot import config as config_module
from bot.cli import main
from bot.config import ConfigError, check_storage, default_config, load_config
from bot.engine.model import Position, SocialCode

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.yaml"


def write(tmp_path: Path, data, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def errors_of(tmp_path: Path, data, environ=None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, data), environ or {})
    return caught.value.errors


# --- The example file and the defaults -------------------------------------------------------------


def test_example_file_states_the_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # so that the default storage path differs from the example's
    example = load_config(EXAMPLE, environ={})
    defaults = default_config()
    assert example.storage.path == EXAMPLE.parent / "storage" / "consent.db"
    assert defaults.storage.path == tmp_path / "storage" / "consent.db"
    # The example's chat sections are examples, read only when their platform is chosen.
    assert example.model_copy(update={"storage": defaults.storage, "matrix": None, "mattermost": None}) == defaults


MATRIX = {
    "homeserver": "https://matrix.example.org/",
    "user_id": "@consent:example.org",
    "access_token": "syt_secret_token",
    "allowed_inviters": ["@alice:example.org", ":example.org"],
}


def test_matrix_section_with_defaults(tmp_path):
    config = load_config(write(tmp_path, yaml.safe_dump({"platform": "matrix", "matrix": MATRIX})), environ={})
    matrix = config.matrix
    assert (matrix.homeserver, matrix.device_id, matrix.facilitator_power_level) == (
        "https://matrix.example.org", "CONSENTBOT", 50)
    assert matrix.may_invite("@alice:example.org") and matrix.may_invite("@zoe:example.org")
    assert not matrix.may_invite("@mallory:evil.org") and not matrix.may_invite("@x:notexample.org")
    assert "syt_secret_token" not in repr(matrix)


def test_matrix_section_is_required_and_checked_for_the_matrix_platform(tmp_path):
    errors = errors_of(tmp_path, {"platform": "matrix"})
    # The access token is asked for by the commands that connect (test_a_secret_is_required_only_by_run).
    assert [e.split(":")[0] for e in errors] == ["matrix.homeserver", "matrix.user_id", "matrix.allowed_inviters"]
    bad = {**MATRIX, "facilitator_power_level": 500, "reactions": {"agree": ["👍"], "block": ["👍🏽"]}}
    errors = errors_of(tmp_path, {"platform": "matrix", "matrix": bad})
    assert errors[0].startswith("matrix.facilitator_power_level: expected a power level from 0 to 100")
    assert errors[1].startswith("matrix.reactions.block: 👍 already stands for agree")


def test_the_encryption_store_lives_beside_the_database_unless_told_otherwise(tmp_path, monkeypatch):
    data = {"platform": "matrix", "storage": {"path": "data/register.db"}, "matrix": MATRIX}
    matrix = load_config(write(tmp_path, yaml.safe_dump(data)), environ={}).matrix
    assert (matrix.store_path, matrix.trust, matrix.room_key_wait) == (
        tmp_path / "data" / "register-crypto", "tofu", timedelta(minutes=10))
    assert matrix.store_path.is_dir()  # created, as the bot would
    data["matrix"] = {**MATRIX, "store_path": "keys", "trust": "ALL", "room_key_wait": "90s"}
    matrix = load_config(write(tmp_path, yaml.safe_dump(data)), environ={}).matrix
    assert (matrix.store_path, matrix.trust, matrix.room_key_wait) == (tmp_path / "keys", "all", timedelta(seconds=90))
    monkeypatch.chdir(tmp_path / "data")  # from the environment, relative to where the bot runs
    matrix = load_config(write(tmp_path, yaml.safe_dump(data)), environ={"CONSENT_BOT_MATRIX_STORE_PATH": "k2"}).matrix
    assert matrix.store_path == tmp_path / "data" / "k2"


def test_the_encryption_settings_are_checked_with_their_keys(tmp_path):
    (tmp_path / "a-file").write_text("")
    bad = {**MATRIX, "trust": "nobody", "room_key_wait": "2d", "store_path": "a-file"}
    errors = errors_of(tmp_path, {"platform": "matrix", "matrix": bad})
    assert [e.split(":")[0] for e in errors] == ["matrix.trust", "matrix.room_key_wait"]
    errors = errors_of(tmp_path, {"platform": "matrix", "matrix": {**MATRIX, "store_path": "a-file"}})
    assert errors == [f"matrix.store_path: {tmp_path / 'a-file'} is a file: give a folder for the encryption store"]
    errors = errors_of(tmp_path, {"platform": "matrix", "storage": {"path": ":memory:"}, "matrix": MATRIX})
    assert errors[0].startswith("matrix.store_path: required when storage.path is :memory:")
    errors = errors_of(tmp_path, {"platform": "matrix", "storage": {"url": "postgresql://bot@db/consent"},
                                  "matrix": MATRIX})
    assert errors[0].startswith("matrix.store_path: required with storage.url")


def test_a_store_made_for_another_device_is_refused(tmp_path):
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "@consent:example.org_OLDDEVICE.db").write_text("")
    errors = errors_of(tmp_path, {"platform": "matrix", "matrix": {**MATRIX, "store_path": "keys"}})
    assert len(errors) == 1 and errors[0].startswith("matrix.store_path: ")
    assert "holds the encryption store of another device (@consent:example.org_OLDDEVICE)" in errors[0]
    assert "keep matrix.user_id and matrix.device_id as they were" in errors[0]
    same = {**MATRIX, "store_path": "keys", "device_id": "OLDDEVICE"}
    assert load_config(write(tmp_path, yaml.safe_dump({"platform": "matrix", "matrix": same})), environ={}).matrix


MATTERMOST = {"url": "https://chat.example.org/", "token": "mm-secret-token"}


def test_mattermost_section_with_defaults(tmp_path):
    config = load_config(write(tmp_path, yaml.safe_dump({"platform": "mattermost", "mattermost": MATTERMOST})),
                         environ={})
    mattermost = config.mattermost
    assert (mattermost.url, mattermost.token.get_secret_value(), mattermost.teams) == (
        "https://chat.example.org", "mm-secret-token", ())
    assert mattermost.reactions.by_position[Position.AGREE] == ("+1", "thumbsup", "white_check_mark")
    assert mattermost.reactions.by_position[Position.BLOCK] == ("hand", "raised_hand", "stop_sign", "no_entry")
    assert "mm-secret-token" not in repr(mattermost) and config.matrix is None


def test_mattermost_section_is_required_and_checked_for_the_mattermost_platform(tmp_path):
    errors = errors_of(tmp_path, {"platform": "mattermost"})
    assert [e.split(":")[0] for e in errors] == ["mattermost.url"]  # the token: test_a_secret_is_required_only_by_run
    bad = {**MATTERMOST, "teams": "assembly", "colour": 1,
           "reactions": {"agree": [":+1:", "ok_hand"], "block": ["+1"], "abstain": ["two words"]}}
    errors = errors_of(tmp_path, {"platform": "mattermost", "mattermost": bad})
    assert "mattermost.colour: unknown key" in errors
    assert any(e.startswith("mattermost.teams: expected a list of team names") for e in errors)
    assert any(e.startswith("mattermost.reactions.block: +1 already stands for agree") for e in errors)
    assert any(e.startswith("mattermost.reactions.abstain[0]: 'two words' is not an emoji name") for e in errors)


def test_mattermost_reactions_and_teams_are_read(tmp_path):
    data = {**MATTERMOST, "teams": ["assembly"], "reactions": {"agree": [":+1:", "+1_skin_tone_2", "ok_hand"]}}
    config = load_config(write(tmp_path, yaml.safe_dump({"platform": "mattermost", "mattermost": data})), environ={})
    assert config.mattermost.teams == ("assembly",)
    assert config.mattermost.reactions.by_position[Position.AGREE] == ("+1", "+1", "ok_hand")
    assert config.mattermost.reactions.by_position[Position.DISAGREE] == ("-1", "thumbsdown")


def test_mattermost_token_from_the_environment_never_shows_in_errors(tmp_path):
    data = {"platform": "mattermost", "mattermost": {"url": "https://chat.example.org", "token": ["mm-file-token"]}}
    errors = errors_of(tmp_path, data)
    assert errors == ["mattermost.token: expected text (in quotes if it looks like a number); a secret's value is "
                      "never shown"]
    data = {"platform": "mattermost", "mattermost": {"url": "https://chat.example.org"}}
    config = load_config(write(tmp_path, yaml.safe_dump(data)), environ={"CONSENT_BOT_MATTERMOST_TOKEN": "from-env"})
    assert config.mattermost.token.get_secret_value() == "from-env" and "from-env" not in repr(config)


def test_matrix_token_from_the_environment_never_shows_in_errors(tmp_path):
    data = {"platform": "matrix", "matrix": {**MATRIX, "access_token": "", "user_id": "consent"}}
    path = write(tmp_path, yaml.safe_dump(data))
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={"CONSENT_BOT_MATRIX_ACCESS_TOKEN": "consent", "CONSENT_BOT_MATRIX_PASSWORD": "x"})
    # A message quotes the value of its own key only, never a secret's; nothing is masked by substitution, which
    # would reveal the secret ("'@***:example.org'" says the token is "consent").
    assert error.value.errors == ["matrix.user_id: 'consent' is not a Matrix id: a Matrix id starts with @ and has a "
                                  "server part, e.g. '@alice:example.org' (in quotes)"]
    config = load_config(write(tmp_path, yaml.safe_dump({"platform": "matrix", "matrix": {**MATRIX, "access_token": ""}})),
                         environ={"CONSENT_BOT_MATRIX_ACCESS_TOKEN": "from-env"})
    assert config.matrix.access_token.get_secret_value() == "from-env" and "from-env" not in repr(config)


def commented_example(key: str, indent: str = "") -> str:
    """The example config.example.yaml gives in comments for ``key``, uncommented (under ``assembly:`` when
    indented, as it is in that section)."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    block = ["assembly:"] if indent else []
    for line in lines[lines.index(f"{indent}# {key}:"):]:
        if not line.startswith(f"{indent}# "):
            break
        block.append(indent + line.removeprefix(f"{indent}# "))
    return "\n".join(block)


def test_example_room_in_the_comments_is_valid(tmp_path):
    config = load_config(write(tmp_path, commented_example("rooms")), environ={})
    room = config.for_room("!pLHwdGaVqOPvBhRsiJ:example.org")
    assert room.language == "en"
    assert room.code.calendar.subdivision == "57"
    assert room.facilitators == {"@alice:example.org"}


def test_example_officials_in_the_comments_are_valid(tmp_path):
    [official] = load_config(write(tmp_path, commented_example("officials", "  ")), environ={}).assembly.officials
    assert (official.id, official.role, official.mandate_end) == ("martine-dupont", "adjointe au numérique",
                                                                 date(2032, 3, 21))
    assert sorted(official.pact) == ["no_self_assessment", "record", "refer", "respect"]


@pytest.mark.parametrize(("official", "error"), [
    ({"id": "Martine Dupont"}, "assembly.officials[0].id: expected an id of at most 40 lowercase letters, digits and "
                               "hyphens, e.g. martine-dupont, got the text 'Martine Dupont'"),
    ({"mandate_end": "2020-01-01"}, "assembly.officials[0].mandate_end: the mandate ends (2020-01-01) before it starts "
                                    "(2026-03-22)"),
    ({"mandate_start": "soon"}, "assembly.officials[0].mandate_start: expected a date such as 2026-03-22, got the "
                                "text 'soon'"),
    ({"pact": {"obey": "2026-04-01"}}, "assembly.officials[0].pact: 'obey' is not one of refer, respect, record, "
                                      "no_self_assessment"),
    ({"accounts": ["martine"]}, "assembly.officials[0].accounts[0]: 'martine' can match no one: a Matrix id starts "
                                "with @"),
])
def test_an_official_is_checked_key_by_key(tmp_path, official, error):
    data = {"platform": "matrix", "matrix": MATRIX,
            "assembly": {"officials": [{"id": "martine", "name": "M", "mandate_start": "2026-03-22", **official}]}}
    errors = errors_of(tmp_path, data)
    assert len(errors) == 1 and errors[0].startswith(error), errors


def test_a_required_key_of_a_list_item_says_what_it_is(tmp_path):
    errors = errors_of(tmp_path, {"assembly": {"topics": [{}], "officials": [{"id": "m", "mandate_start": "2026-03-22"}]}})
    assert errors == ["assembly.officials[0].name: required: the official's name, as the room and the register show it",
                      "assembly.topics[0].id: required: a stable id, as commands name the topic (!propose topic "
                      "transport …) and the register's addresses"]


def test_two_officials_never_share_an_id_or_an_account(tmp_path):
    official = {"id": "martine", "name": "M", "mandate_start": "2026-03-22", "accounts": ["@m:x.org"]}
    errors = errors_of(tmp_path, {"assembly": {"officials": [official, {**official, "id": "paul"}]}})
    assert errors == ["assembly.officials: two officials have the account '@m:x.org'"]
    errors = errors_of(tmp_path, {"assembly": {"officials": [official, {**official, "accounts": []}]}})
    assert errors == ["assembly.officials: two officials have the id 'martine'"]


def test_the_follow_up_members_of_an_older_file_still_load_and_check_config_says_what_replaced_them(tmp_path):
    config = load_config(write(tmp_path, {"assembly": {"followup": ["mayor"]}, "rooms": {"!a:b": {"followup": []}}}),
                         environ={})
    assert config.deprecated() == ['assembly.followup: no longer used: declare the elected officials under '
                                   'assembly.officials (README, "The pact")']


def test_example_webhooks_in_the_comments_are_valid(tmp_path):
    config = load_config(write(tmp_path, commented_example("webhooks", "  ")),
                         environ={"CONSENT_BOT_WIKI_SECRET": "s3cret"})
    [hook] = config.assembly.webhooks
    assert (hook.name, hook.events, hook.secret.get_secret_value()) == ("wiki", ("proposal", "outcome"), "s3cret")
    assert config.announces()


@pytest.mark.parametrize(("assembly", "error"), [
    ({"email": {"lists": ["not an address"], "sender": "a@b.org", "host": "smtp.b.org"}},
     "assembly.email.lists[0]: 'not an address' is not an email address: An email address must have an @-sign."),
    ({"email": {"lists": ["list@b.org"], "host": "smtp.b.org"}},
     "assembly.email.sender: required with lists: who the mails come from"),
    ({"email": {"lists": ["list@b.org"], "sender": "Assembly <a@b.org>"}},
     "assembly.email.host: required with lists: the SMTP server"),
    ({"email": {"sender": "Assembly <not an address>"}}, "assembly.email.sender: 'Assembly <not an address>' is not "
                                                         "an email address"),
    ({"email": {"security": "ssl"}}, "assembly.email.security: 'ssl' is not one of starttls, tls, none"),
    ({"email": {"per_minute": 0}}, "assembly.email.per_minute: expected a number of mails from 1 to 600"),
    ({"webhooks": [{"name": "wiki", "url": "http://wiki.example.org/hook", "secret": "s"}]},
     "assembly.webhooks[0].url: 'http://wiki.example.org/hook': a webhook is called over https (http only to this "
     "machine)"),
    ({"webhooks": [{"name": "wiki", "url": "https://wiki.example.org/hook"}]},
     "assembly.webhooks[0].secret: required: the key the calls are signed with (or secret_from)"),
    ({"webhooks": [{"name": "wiki", "url": "wiki.example.org", "secret": "s"}]},
     "assembly.webhooks[0].url: 'wiki.example.org' is not a URL: a URL needs http:// or https://"),
    ({"webhooks": [{"name": "wiki", "url": "https://w.org", "secret": "s", "events": ["vote"]}]},
     "assembly.webhooks[0].events[0]: 'vote' is not one of proposal, round, outcome, fact, statement"),
    ({"webhooks": [{"name": "w", "url": "https://w.org", "secret": "s"}] * 2},
     "assembly.webhooks: two webhooks have the name 'w'"),
])
def test_a_mailing_list_or_a_webhook_that_cannot_be_used_is_refused_by_key(tmp_path, assembly, error):
    errors = errors_of(tmp_path, {"assembly": assembly})
    assert len(errors) == 1 and errors[0].startswith(error), errors


def test_the_mail_password_comes_from_the_environment_and_is_never_shown(tmp_path):
    email = {"lists": ["list@b.org"], "sender": "a@b.org", "host": "smtp.b.org", "user": "bot"}
    config = load_config(write(tmp_path, {"assembly": {"email": email}}), {"CONSENT_BOT_EMAIL_PASSWORD": "pw-s3cret"})
    assert config.assembly.email.password.get_secret_value() == "pw-s3cret" and "pw-s3cret" not in repr(config)
    room = {"email": {**email, "password_from": "ROOM_SMTP"}}
    config = load_config(write(tmp_path, {"rooms": {"!a:b": room}}), {"ROOM_SMTP": "other"})
    assert config.for_room("!a:b").email.password.get_secret_value() == "other"


def test_defaults_are_the_social_code_of_the_spec():
    config = default_config()
    assert config.platform == "console"
    assert config.log_level == "INFO"
    assert config.assembly.language == "fr"
    assert config.assembly.facilitators == frozenset()
    code = config.assembly.code
    assert code == SocialCode()  # the engine's own defaults
    assert str(code.calendar.zone) == "Europe/Paris"
    assert (code.calendar.country, code.calendar.subdivision) == ("FR", None)
    assert code.minimum_duration == timedelta(hours=72)
    assert code.reminders == (timedelta(hours=24), timedelta(hours=1))
    assert code.majority == Fraction(2, 3)
    assert code.majority_lock == relativedelta(months=3)
    assert code.quorum == 0


def test_load_config_without_a_file_takes_the_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(None, {"CONSENT_BOT_LOG_LEVEL": "debug"})
    assert config.log_level == "DEBUG"
    assert config.storage.path == tmp_path / "storage" / "consent.db"


def test_empty_file_gives_the_defaults(tmp_path):
    config = load_config(write(tmp_path, ""), environ={})
    assert config.assembly == default_config().assembly
    assert config.storage.path == tmp_path / "storage" / "consent.db"


def test_settings_are_immutable():
    config = default_config()
    with pytest.raises(ValidationError, match="frozen"):
        config.platform = "matrix"
    with pytest.raises(TypeError):
        config.rooms["!room"] = config.assembly


# --- Values -------------------------------------------------------------------------------------


def test_a_full_assembly_is_read_into_typed_values(tmp_path):
    data = {
        "log_level": "warning",
        "assembly": {
            "language": "EN",
            "timezone": "America/Montreal",
            "holidays": {"country": "ca", "subdivision": "QC"},
            "working_days_only": False,
            "minimum_duration": "1d 12h",
            "reminders": ["1h", "24h", "1h"],
            "days_between_rounds": "0d",
            "blocked_rounds_before_majority": 3,
            "majority": "75%",
            "majority_lock": "1mo2w",
            "quorum": "1/2",
            "facilitators": ["@alice:example.org", "bob"],
        },
    }
    config = load_config(write(tmp_path, data), environ={})
    assembly = config.assembly
    calendar = assembly.code.calendar
    assert config.log_level == "WARNING"
    assert assembly.language == "en"
    assert (str(calendar.zone), calendar.country, calendar.subdivision) == ("America/Montreal", "CA", "QC")
    assert calendar.working_days_only is False
    assert assembly.code.minimum_duration == timedelta(hours=36)
    assert assembly.code.reminders == (timedelta(hours=24), timedelta(hours=1))  # earliest first, once each
    assert assembly.code.days_between_rounds == timedelta(0)
    assert assembly.code.blocked_rounds_before_majority == 3
    assert assembly.code.majority == Fraction(3, 4)
    assert assembly.code.majority_lock == relativedelta(months=1, days=14)
    assert assembly.code.quorum == Fraction(1, 2)
    assert assembly.facilitators == {"@alice:example.org", "bob"}


@pytest.mark.parametrize(
    ("written", "expected"),
    [("2/3", Fraction(2, 3)), (0.67, Fraction(67, 100)), ("66%", Fraction(33, 50)), (1, Fraction(1))],
)
def test_majority_spellings(tmp_path, written, expected):
    config = load_config(write(tmp_path, {"assembly": {"majority": written}}), environ={})
    assert config.assembly.code.majority == expected


@pytest.mark.parametrize("written", ["50%", "1/2", 0.5, " 50 % "])
def test_quorum_spellings(tmp_path, written):
    config = load_config(write(tmp_path, {"assembly": {"quorum": written}}), environ={})
    assert config.assembly.code.quorum == Fraction(1, 2)


@pytest.mark.parametrize("written", ["57", 57, "Moselle", "moselle"])
def test_subdivision_may_be_a_code_a_number_or_an_alias(tmp_path, written):
    data = {"assembly": {"holidays": {"country": "FR", "subdivision": written}}}
    calendar = load_config(write(tmp_path, data), environ={}).assembly.code.calendar
    assert calendar.subdivision == "57"
    assert not calendar.is_working_day(date(2027, 3, 26))  # Good Friday, a holiday in Moselle only


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"platform": "slack"}, "platform: 'slack' is not one of console, matrix, mattermost"),
        ({"log_level": "LOUD"}, "log_level: 'LOUD' is not one of DEBUG, INFO, WARNING, ERROR"),
        ({"storage": "db.sqlite"}, "storage: expected a mapping of settings, got the text 'db.sqlite'"),
        ({"storage": {"path": ""}}, "storage.path: expected a file path"),
        ({"assembly": []}, "assembly: expected a mapping of settings, got a list"),
        ({"assembly": {"language": "de"}}, "assembly.language: 'de' is not one of fr, en"),
        ({"assembly": {"language": 1}}, "assembly.language: expected one of fr, en, got the number 1"),
        (
            {"assembly": {"timezone": "Europe/Pariss"}},
            "assembly.timezone: 'Europe/Pariss' is not a known time zone (did you mean 'Europe/Paris'?)",
        ),
        ({"assembly": {"timezone": "Europe"}}, "assembly.timezone: 'Europe' is not a known time zone"),
        ({"assembly": {"holidays": "FR"}}, "assembly.holidays: expected a mapping of settings, got the text 'FR'"),
        (
            {"assembly": {"holidays": {"country": "XX"}}},
            "assembly.holidays.country: 'XX' is not a country code known to the holidays package",
        ),
        ({"assembly": {"holidays": {"country": None}}}, "assembly.holidays.country: expected a country code"),
        (
            {"assembly": {"holidays": {"subdivision": "99"}}},
            "assembly.holidays.subdivision: '99' is not a subdivision of FR (known: 57, 6AE,",
        ),
        ({"assembly": {"working_days_only": "no"}}, "assembly.working_days_only: expected true or false"),
        (
            {"assembly": {"minimum_duration": 72}},
            "assembly.minimum_duration: expected a duration such as 72h or 7d, got the number 72 (a unit is missing)",
        ),
        ({"assembly": {"minimum_duration": "0h"}}, "assembly.minimum_duration: '0h' must be longer than zero"),
        ({"assembly": {"minimum_duration": "3x"}}, "assembly.minimum_duration: '3x' is not a duration"),
        ({"assembly": {"reminders": "24h"}}, "assembly.reminders: expected a list of durations"),
        ({"assembly": {"reminders": ["24h", "0s"]}}, "assembly.reminders[1]: '0s' must be longer than zero"),
        ({"assembly": {"days_between_rounds": "1mo"}}, "assembly.days_between_rounds: '1mo': months have no"),
        (
            {"assembly": {"blocked_rounds_before_majority": 0}},
            "assembly.blocked_rounds_before_majority: expected a whole number of at least 1",
        ),
        ({"assembly": {"blocked_rounds_before_majority": True}}, "assembly.blocked_rounds_before_majority: expected"),
        (
            {"assembly": {"majority": "1/3"}},
            "assembly.majority: must be a fraction between 1/2 and 1, e.g. 2/3 (got '1/3')",
        ),
        ({"assembly": {"majority": 0.5}}, "assembly.majority: must be a fraction between 1/2 and 1, e.g. 2/3"),
        ({"assembly": {"majority": "110%"}}, "assembly.majority: must be a fraction between 1/2 and 1"),
        ({"assembly": {"majority": "two thirds"}}, "assembly.majority: 'two thirds' is not a number"),
        ({"assembly": {"majority": "2/0"}}, "assembly.majority: '2/0' is not a number"),
        ({"assembly": {"majority_lock": "3x"}}, "assembly.majority_lock: '3x' is not a duration"),
        ({"assembly": {"majority_lock": 3}}, "assembly.majority_lock: expected a duration such as 3mo"),
        ({"assembly": {"quorum": "150%"}}, "assembly.quorum: must be a share between 0 and 1"),
        ({"assembly": {"quorum": -0.1}}, "assembly.quorum: must be a share between 0 and 1"),
        ({"assembly": {"facilitators": "alice"}}, "assembly.facilitators: expected a list of member ids"),
        ({"assembly": {"facilitators": ["alice", 42]}}, "assembly.facilitators[1]: expected a member id"),
        ({"rooms": ["!a:b"]}, "rooms: expected a mapping from room ids to settings, got a list"),
        ({"rooms": {"!a:b": {"quorum": 2}}}, "rooms.!a:b.quorum: must be a share between 0 and 1"),
        ({"rooms": {"!a:b": "en"}}, "rooms.!a:b: expected a mapping of settings, got the text 'en'"),
        ({"rooms": {42: {}}}, "rooms: the room id 42 must be text: put it in quotes"),
    ],
)
def test_each_invalid_value_is_named_by_its_key(tmp_path, data, error):
    errors = errors_of(tmp_path, data)
    assert len(errors) == 1, errors
    assert errors[0].startswith(error)


def test_all_errors_are_reported_together(tmp_path):
    data = {
        "platform": "slack",
        "storage": {"path": 5},
        "assembly": {"language": "de", "majority": "1/3", "reminders": ["1h", "x", "0h"]},
        "rooms": {"!a:b": {"timezone": "Mars/Olympus"}},
    }
    keys = [error.split(": ")[0] for error in errors_of(tmp_path, data)]
    assert sorted(keys) == sorted(
        [
            "platform",
            "storage.path",
            "assembly.language",
            "assembly.majority",
            "assembly.reminders[1]",
            "assembly.reminders[2]",
            "rooms.!a:b.timezone",
        ]
    )


def test_config_error_prints_one_problem_a_line(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, {"platform": "x", "log_level": "y"}), environ={})
    assert str(caught.value).splitlines() == caught.value.errors


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"asembly": {}}, "asembly: unknown key (did you mean 'assembly'?)"),
        ({"assembly": {"timzone": "UTC"}}, "assembly.timzone: unknown key (did you mean 'timezone'?)"),
        (
            {"assembly": {"holidays": {"contry": "FR"}}},
            "assembly.holidays.contry: unknown key (did you mean 'country'?)",
        ),
        ({"storage": {"paht": "x.db"}}, "storage.paht: unknown key (did you mean 'path'?)"),
        ({"rooms": {"!a:b": {"quorom": 0}}}, "rooms.!a:b.quorom: unknown key (did you mean 'quorum'?)"),
        ({"telemetry": True}, "telemetry: unknown key"),
    ],
)
def test_unknown_keys_are_errors_with_a_suggestion(tmp_path, data, error):
    assert errors_of(tmp_path, data) == [error]


# --- Rooms --------------------------------------------------------------------------------------


def test_room_overrides_merge_over_the_assembly(tmp_path):
    data = {
        "assembly": {
            "language": "en",
            "holidays": {"country": "FR", "subdivision": "57"},
            "facilitators": ["alice"],
        },
        "rooms": {
            "!garden:example.org": {"majority": "3/4", "holidays": {"subdivision": "6AE"}, "facilitators": ["bob"]},
        },
    }
    config = load_config(write(tmp_path, data), environ={})
    room = config.for_room("!garden:example.org")
    assert room.code.majority == Fraction(3, 4)
    assert room.language == "en"  # inherited
    assert (room.code.calendar.country, room.code.calendar.subdivision) == ("FR", "6AE")  # merged inside holidays
    assert room.facilitators == {"bob"}  # replaced, not added to
    assert room.code.minimum_duration == config.assembly.code.minimum_duration
    assert config.assembly.code.majority == Fraction(2, 3)
    assert config.for_room("!elsewhere:example.org") is config.assembly


def test_a_bad_assembly_value_is_reported_once_not_for_every_room(tmp_path):
    data = {"assembly": {"language": "de"}, "rooms": {"!a:b": {"quorum": "1/2"}, "!c:d": {}}}
    assert errors_of(tmp_path, data) == ["assembly.language: 'de' is not one of fr, en"]


@pytest.mark.parametrize("room", [None, {}, {"holidays": {"subdivision": "57"}}])
def test_an_unknown_assembly_key_is_reported_once_whatever_a_room_overrides(tmp_path, room):
    data = {"assembly": {"holidays": {"colour": "red"}, "timzone": "UTC"}, "rooms": {"!a:b": room}}
    assert sorted(errors_of(tmp_path, data)) == ["assembly.holidays.colour: unknown key (did you mean 'country'?)",
                                                 "assembly.timzone: unknown key (did you mean 'timezone'?)"]


def test_a_key_that_yaml_reads_as_null_or_a_number_is_named(tmp_path):
    errors = errors_of(tmp_path, "rooms:\n  '!a:b':\n    ~: 1\n    42: 2\n")
    assert sorted(errors) == ["rooms.!a:b.42: a key is a name: put it in quotes if it is meant to be one",
                              "rooms.!a:b.None: a key is a name: put it in quotes if it is meant to be one"]


def test_a_room_override_is_checked_against_the_merged_holidays(tmp_path):
    data = {
        "assembly": {"holidays": {"country": "DE", "subdivision": "BY"}},
        "rooms": {"!a:b": {"holidays": {"country": "FR"}}},
    }
    errors = errors_of(tmp_path, data)
    assert len(errors) == 1
    assert errors[0].startswith("rooms.!a:b.holidays.subdivision: 'BY' is not a subdivision of FR")


# --- Environment --------------------------------------------------------------------------------


def test_environment_overrides_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path / "etc", {"log_level": "INFO", "storage": {"path": "file.db"}})
    environ = {"CONSENT_BOT_LOG_LEVEL": "ERROR", "CONSENT_BOT_STORAGE_PATH": str(tmp_path / "srv" / "env.db")}
    config = load_config(path, environ)
    assert config.log_level == "ERROR"
    assert config.storage.path == tmp_path / "srv" / "env.db"


def test_an_empty_environment_variable_counts_as_unset(tmp_path):
    config = load_config(write(tmp_path, {"log_level": "DEBUG"}), {"CONSENT_BOT_LOG_LEVEL": ""})
    assert config.log_level == "DEBUG"


def test_an_error_in_an_environment_value_names_the_variable(tmp_path):
    errors = errors_of(tmp_path, {}, {"CONSENT_BOT_LOG_LEVEL": "loud"})
    assert errors == ["log_level (from CONSENT_BOT_LOG_LEVEL): 'loud' is not one of DEBUG, INFO, WARNING, ERROR"]


def test_secret_values_never_appear_in_errors(tmp_path):
    secret = "syt_s3cr3t-t0ken"
    data = {"platform": "matrix", "log_level": "loud",
            "matrix": {**MATRIX, "access_token": [secret], "password": 12345678},
            "mattermost": {"url": "https://chat.example.org", "token": {"token": secret}}}
    errors = errors_of(tmp_path, data, {"CONSENT_BOT_MATRIX_PASSWORD": secret})
    assert [e.split(": ")[0] for e in errors] == ["log_level", "matrix.access_token", "mattermost.token"]
    assert not [e for e in errors if secret in e or "12345678" in e or "s3cr3t" in e]


# --- Storage path -------------------------------------------------------------------------------


def test_relative_storage_path_is_taken_from_the_config_files_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path / "deploy", {"storage": {"path": "data/consent.db"}})
    assert load_config(path, environ={}).storage.path == tmp_path / "deploy" / "data" / "consent.db"


def test_default_storage_path_is_next_to_the_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path / "deploy", {})
    assert load_config(path, environ={}).storage.path == tmp_path / "deploy" / "storage" / "consent.db"


def test_a_relative_config_path_still_gives_an_absolute_storage_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "deploy", {"storage": {"path": "consent.db"}})
    assert load_config(Path("deploy/config.yaml"), environ={}).storage.path == tmp_path / "deploy" / "consent.db"


def test_absolute_storage_path_is_kept(tmp_path):
    # Under tmp_path: loading proves the folder can be made, so /var/lib would need root.
    database = tmp_path / "var" / "lib" / "consent-bot" / "consent.db"
    path = write(tmp_path / "etc", {"storage": {"path": str(database)}})
    assert load_config(path, environ={}).storage.path == database


def test_relative_storage_path_from_the_environment_is_taken_from_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path / "deploy", {})
    config = load_config(path, {"CONSENT_BOT_STORAGE_PATH": "run/consent.db"})
    assert config.storage.path == tmp_path / "run" / "consent.db"


# --- Storage URL: PostgreSQL instead of the SQLite file -----------------------------------------


PASSWORD = "pg-s3cret"
URL = f"postgresql://consent:{PASSWORD}@db.example.org:5432/consent"


def test_a_storage_url_puts_the_register_in_postgresql_and_no_file_is_made(tmp_path):
    config = load_config(write(tmp_path, {"storage": {"url": URL}}), environ={})
    assert config.storage.url == config.database == URL
    assert not (tmp_path / "storage").exists()  # the SQLite file's folder is neither checked nor made
    assert PASSWORD not in repr(config)


def test_without_a_storage_url_the_register_is_the_sqlite_file(tmp_path):
    config = load_config(write(tmp_path, {"storage": {"path": "consent.db", "url": None}}), environ={})
    assert config.storage.url is None and config.database == str(tmp_path / "consent.db")


def test_a_storage_url_from_the_environment(tmp_path):
    config = load_config(write(tmp_path, {}), {"CONSENT_BOT_STORAGE_URL": "postgres://consent@/consent?host=/run"})
    assert config.database == "postgres://consent@/consent?host=/run"


@pytest.mark.parametrize(("storage", "environ", "error"), [
    ({"path": "consent.db", "url": URL}, {},
     "storage.url: storage.path is given too: keep one, the SQLite file (path) or the PostgreSQL database (url)"),
    ({"url": URL}, {"CONSENT_BOT_STORAGE_PATH": "/data/consent.db"},
     "storage.url: storage.path is given too (by CONSENT_BOT_STORAGE_PATH): keep one, the SQLite file (path) or "
     "the PostgreSQL database (url)"),
    ({"url": f"mysql://consent:{PASSWORD}@db/consent"}, {},
     "storage.url: expected a PostgreSQL URL starting with postgresql:// or postgres://, such as "
     "postgresql://consent@db.example.org/consent"),
    ({"url": f"postgresql://consent:{PASSWORD}@db:99999/consent"}, {},
     "storage.url: postgresql://consent:***@db:99999/consent: a port is a number from 1 to 65535 after the host, "
     "e.g. db.example.org:5432"),
    ({}, {"CONSENT_BOT_STORAGE_URL": f"postgresql://consent:{PASSWORD}@[db/consent"},
     "storage.url (from CONSENT_BOT_STORAGE_URL): not a valid URL, e.g. postgresql://consent@db.example.org/consent"),
    ({"url": ["postgresql://db/consent"]}, {},
     "storage.url: expected a PostgreSQL URL such as postgresql://consent@db.example.org/consent, got a list"),
    ({"path": URL}, {}, "storage.path: a PostgreSQL URL is no file path: give it as storage.url"),
])
def test_a_storage_url_that_cannot_be_used_is_a_keyed_error_without_its_password(tmp_path, storage, environ, error):
    errors = errors_of(tmp_path, {"storage": storage}, environ)
    assert errors == [error]
    assert all(PASSWORD not in line for line in errors)


# --- Reading the file ---------------------------------------------------------------------------


def test_yaml_syntax_error_gives_the_line(tmp_path):
    path = write(tmp_path, "assembly:\n  language: fr\n    timezone: Europe/Paris\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert caught.value.errors == [f"{path}, line 3, column 13: invalid YAML: mapping values are not allowed here"]


def test_a_key_written_twice_is_an_error(tmp_path):
    path = write(tmp_path, "assembly:\n  language: fr\n  language: en\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert caught.value.errors == [
        f"{path}, line 3, column 3: invalid YAML: the key 'language' appears twice in the same section"
    ]


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.yaml", environ={})
    assert caught.value.errors == [f"{tmp_path / 'nope.yaml'}: no such configuration file"]


def test_unreadable_file(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, environ={})  # a directory
    assert caught.value.errors[0].startswith(f"{tmp_path}: cannot be read")


def test_a_file_that_is_not_a_mapping(tmp_path):
    errors = errors_of(tmp_path, "- platform\n- console\n")
    assert errors == ["(top level): expected a mapping of settings, got a list"]


# --- Bounds: nothing in the file can crash the bot or make it hang ------------------------------


@pytest.mark.parametrize(
    ("assembly", "error"),
    [
        ({"minimum_duration": "61d"}, "assembly.minimum_duration: '61d' is too long: at most 60d"),
        ({"minimum_duration": "3000000d"}, "assembly.minimum_duration: '3000000d' is too long: at most 60d"),
        ({"minimum_duration": "0s"}, "assembly.minimum_duration: '0s' must be longer than zero"),
        ({"reminders": ["24h", "1441h"]}, "assembly.reminders[1]: '1441h' is too long: at most 60d"),
        ({"reminders": ["1h"] * 11}, "assembly.reminders: at most 10 reminders, got 11"),
        ({"days_between_rounds": "366d"}, "assembly.days_between_rounds: '366d' is too long: at most 365d"),
        ({"days_between_rounds": "53w"}, "assembly.days_between_rounds: '53w' is too long: at most 365d"),
        ({"majority_lock": "61mo"}, "assembly.majority_lock: '61mo' is too long: at most 60mo"),
        ({"majority_lock": "120000mo"}, "assembly.majority_lock: '120000mo' is too long: at most 60mo"),
        ({"majority_lock": "1828d"}, "assembly.majority_lock: '1828d' is too long: at most 60mo"),
        ({"majority_lock": "-1mo"}, "assembly.majority_lock: '-1mo' is not a duration"),
        ({"blocked_rounds_before_majority": 101},
         "assembly.blocked_rounds_before_majority: expected a whole number of at least 1, at most 100"),
        ({"blocked_rounds_before_majority": -1}, "assembly.blocked_rounds_before_majority: expected a whole number"),
        ({"facilitators": ["a" * 256]}, "assembly.facilitators[0]: a member id has at most 255 characters, got 256"),
        ({"facilitators": ["alice"] * 1001}, "assembly.facilitators: at most 1000 facilitators, got 1001"),
        ({"facilitators": [""]}, "assembly.facilitators[0]: expected a member id"),
    ],
)
def test_each_bound_is_named_by_its_key(tmp_path, assembly, error):
    errors = errors_of(tmp_path, {"assembly": assembly})
    assert len(errors) == 1, errors
    assert errors[0].startswith(error), errors


@pytest.mark.parametrize(
    ("assembly", "expected"),
    [
        ({"minimum_duration": "60d"}, ("minimum_duration", timedelta(days=60))),
        ({"reminders": ["1h"] * 10}, ("reminders", (timedelta(hours=1),))),
        ({"days_between_rounds": "365d"}, ("days_between_rounds", timedelta(days=365))),
        ({"majority_lock": "60mo"}, ("majority_lock", relativedelta(years=5))),
        ({"majority_lock": "0d"}, ("majority_lock", relativedelta())),
        ({"blocked_rounds_before_majority": 100}, ("blocked_rounds_before_majority", 100)),
    ],
)
def test_values_at_the_bounds_are_accepted(tmp_path, assembly, expected):
    code = load_config(write(tmp_path, {"assembly": assembly}), environ={}).assembly.code
    assert getattr(code, expected[0]) == expected[1]


def test_a_thousand_facilitators_of_255_characters_are_accepted(tmp_path):
    facilitators = [f"{index:03d}" + "a" * 252 for index in range(1000)]
    config = load_config(write(tmp_path, {"assembly": {"facilitators": facilitators}}), environ={})
    assert len(config.assembly.facilitators) == 1000


ABSURD_SHARES = [
    "1e400", "1e999999999", "-1e999999999", ".inf", "-.inf", ".nan", "nan", "inf", "1.0e+400", "1" * 4000,
    "'" + "1" * 5001 + "'", "1/0", "'0/0'", "2/0%", "true", "false", "[1, 2]", "{a: 1}", "null", "''", "'%'",
    "'1/2/3'", "'½'", "'١/٢'", "'1_000'", "'" + "9" * 100 + "/" + "9" * 100 + "'",
]


@pytest.mark.parametrize("key", ["majority", "quorum"])
@pytest.mark.parametrize("written", ABSURD_SHARES)
def test_an_absurd_share_is_a_keyed_error_quickly(tmp_path, key, written):
    started = time.perf_counter()
    errors = errors_of(tmp_path, f"assembly:\n  {key}: {written}\n")
    assert time.perf_counter() - started < 1
    assert len(errors) == 1 and errors[0].startswith(f"assembly.{key}: "), errors
    assert len(errors[0]) < 200  # a long value is quoted cut short


@pytest.mark.parametrize("written", ["1e-2", "1.5e-1", "0.01", "1%"])
def test_a_small_share_may_use_an_exponent(tmp_path, written):
    config = load_config(write(tmp_path, f"assembly:\n  quorum: '{written}'\n"), environ={})
    assert config.assembly.code.quorum in (Fraction(1, 100), Fraction(15, 100))


@pytest.mark.parametrize(
    "name", ["Europe/Paris\0", "\0", "../../etc/passwd", "/etc/localtime", "Europe/", "Europe//Paris", ".", "",
             "x" * 5000, "Europe/" + "x" * 300, "Éurope/Paris", "東京", "zone.tab", "tzdata.zi", "Europe\nParis"],
)
def test_an_odd_time_zone_is_a_keyed_error(tmp_path, name):
    errors = errors_of(tmp_path, {"assembly": {"timezone": name}})
    assert len(errors) == 1 and errors[0].startswith("assembly.timezone: "), errors
    assert "\n" not in errors[0] and len(errors[0]) < 200


@pytest.mark.parametrize("written", [1, None, True, ["Europe/Paris"], {"name": "Europe/Paris"}])
def test_a_time_zone_that_is_not_text_is_a_keyed_error(tmp_path, written):
    errors = errors_of(tmp_path, {"assembly": {"timezone": written}})
    assert len(errors) == 1 and errors[0].startswith("assembly.timezone: expected a time zone name"), errors


def test_room_ids_and_mattermost_teams_are_bounded(tmp_path):
    errors = errors_of(tmp_path, {"rooms": {"!" + "r" * 255: {}, "!ok:example.org": {}}})
    assert errors == [f"rooms: the room id {'!' + 'r' * 39!r}…: a room id has at most 255 characters, got 256"]
    config = load_config(write(tmp_path, {"rooms": {"!" + "r" * 254: {"language": "en"}}}), environ={})
    assert config.for_room("!" + "r" * 254).language == "en"
    mattermost = {**MATTERMOST, "teams": ["t" * 64, "u" * 65]}
    errors = errors_of(tmp_path, {"platform": "mattermost", "mattermost": mattermost})
    assert errors == [f"mattermost.teams[1]: expected a team name of at most 64 characters, got the text {'u' * 40!r}…"]


def test_a_key_or_a_value_with_a_newline_stays_on_its_own_line(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, {"rooms": {"!a\nb": {"quorum": 2}}, "x\ny": 1}), environ={})
    assert str(caught.value).splitlines() == caught.value.errors
    assert sorted(caught.value.errors) == [
        "rooms.!a\\nb.quorum: must be a share between 0 and 1, e.g. 1/2 or 50%; 0 means no quorum (got 2)",
        "x\\ny: unknown key",
    ]


def test_a_matrix_homeserver_that_urlparse_refuses_is_a_keyed_error(tmp_path):
    errors = errors_of(tmp_path, {"platform": "matrix", "matrix": {**MATRIX, "homeserver": "https://[::1"}})
    assert errors == ["matrix.homeserver: 'https://[::1' is not a valid address: invalid IPv6 address"]


# --- Storage: a path the bot could not use is refused by check-config ---------------------------


def test_a_storage_path_under_proc_is_refused(tmp_path):
    for database in ("/proc/consent.db", "/proc/consent-bot/consent.db", "/sys/consent-bot/consent.db"):
        errors = errors_of(tmp_path, {"storage": {"path": database}})
        assert len(errors) == 1 and errors[0].startswith("storage.path: "), errors
        assert "cannot" in errors[0]


def test_a_storage_path_that_is_a_folder_is_refused(tmp_path):
    errors = errors_of(tmp_path, {"storage": {"path": str(tmp_path)}})
    assert errors == [f"storage.path: {tmp_path} is a folder: give the database file's path, "
                      f"e.g. {tmp_path / 'consent.db'}"]


def test_a_storage_path_with_a_nul_byte_is_refused(tmp_path):
    assert errors_of(tmp_path, {"storage": {"path": "consent\0.db"}}) == [
        "storage.path: a file path cannot contain a NUL byte (\\0)"
    ]


def test_a_storage_path_under_a_file_is_refused(tmp_path):
    (tmp_path / "data").write_text("not a folder")
    errors = errors_of(tmp_path, {"storage": {"path": "data/sub/consent.db"}})
    assert errors == [f"storage.path: the folder {tmp_path / 'data' / 'sub'} cannot be created: "
                      f"{tmp_path / 'data'} is a file, not a folder"]


def test_a_storage_path_from_the_environment_is_checked_too(tmp_path):
    errors = errors_of(tmp_path, {}, {"CONSENT_BOT_STORAGE_PATH": str(tmp_path)})
    assert errors[0].startswith("storage.path (from CONSENT_BOT_STORAGE_PATH): ")


def test_a_storage_path_with_an_unknown_home_is_refused(tmp_path):
    errors = errors_of(tmp_path, {"storage": {"path": "~no-such-user-here/consent.db"}})
    assert errors == ["storage.path: '~no-such-user-here/consent.db': there is no such home directory for ~ "
                      "to stand for"]


def test_checking_the_storage_path_creates_its_folder_and_nothing_else(tmp_path):
    config = load_config(write(tmp_path, {"storage": {"path": "data/deeper/consent.db"}}), environ={})
    assert config.storage.path == tmp_path / "data" / "deeper" / "consent.db"
    assert (tmp_path / "data" / "deeper").is_dir()
    assert list((tmp_path / "data" / "deeper").iterdir()) == []  # no database, no temporary file


def test_check_storage_says_why_or_nothing(tmp_path):
    assert check_storage(tmp_path / "consent.db") is None
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "consent.db").write_text("")
    assert check_storage(tmp_path / "consent.db") is None  # an existing database is fine
    assert check_storage(tmp_path).startswith(f"{tmp_path} is a folder")
    assert check_storage(Path("/proc/consent.db")).startswith("the bot cannot write in the folder /proc")


def test_an_in_memory_database_is_not_checked(tmp_path):
    config = load_config(write(tmp_path, {"storage": {"path": ":memory:"}}), environ={})
    assert config.storage.path.name == ":memory:"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]


def test_the_defaults_touch_no_disk(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    default_config()
    load_config(None, {"CONSENT_BOT_STORAGE_PATH": "elsewhere/consent.db"})
    assert list(tmp_path.iterdir()) == []


# --- Files no YAML check foresaw ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "assembly: {quorum: " + "1" * 5001 + "}\n",
        "assembly:\n  reminders: [" + "1" * 5001 + "]\n",
        "? " + "1" * 5001 + "\n: x\n",
        "platform: console\nlog_level: " + "9" * 5001 + "\n",
    ],
)
def test_an_integer_of_thousands_of_digits_is_a_clear_error(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    [error] = caught.value.errors
    assert error.startswith(f"{path}") and "invalid YAML" in error
    assert "1111" not in error and "9999" not in error and "\n" not in error


@pytest.mark.parametrize("text", ["[" * 10000, "a: " + "[" * 10000 + "]" * 10000, "{a: " * 5000 + "1" + "}" * 5000])
def test_a_deeply_nested_document_is_a_clear_error(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    [error] = caught.value.errors
    assert error.startswith(f"{path}") and ("nested" in error or "invalid YAML" in error), error


def test_a_document_nested_beyond_any_setting_is_refused_by_key(tmp_path):
    nested = "[" * 30 + "]" * 30
    path = write(tmp_path, f"rooms: {nested}\nassembly:\n  facilitators: {nested}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert caught.value.errors == [
        "assembly.facilitators[0]: expected a member id such as '@alice:example.org', got a list",
        "rooms: expected a mapping from room ids to settings, got a list"]


@pytest.mark.parametrize("text", [
    "assembly: &a {holidays: {country: FR}, rooms: *a}\nrooms: &r {'!x': {holidays: *r}}\n",
    "assembly: &a {holidays: *a}\nrooms: {'!x': {holidays: *a}}\n",  # merging the room's holidays over its own
    "matrix: &m {reactions: *m}\nrooms: &r {'!x': *r}\n",
])
def test_a_section_that_contains_itself_is_refused_by_key(tmp_path, text):
    errors = errors_of(tmp_path, text)
    assert errors and all(line.split(": ")[0].split(".")[0] in ("assembly", "rooms", "matrix") for line in errors)


def test_a_billion_laughs_is_quick(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    lines.append("assembly: {holidays: {subdivision: *a9}, majority: *a9, facilitators: *a9}")
    started = time.perf_counter()
    errors = errors_of(tmp_path, "\n".join(lines) + "\n")
    assert time.perf_counter() - started < 2
    assert ("assembly.holidays.subdivision: expected a subdivision's code or name such as \"57\" or Moselle, got a "
            "list") in errors
    assert any(e.startswith("assembly.majority: expected a fraction") for e in errors)


@pytest.mark.parametrize(
    "text", ["a: !!timestamp 2027-02-30\n", "a: !!int 0xzz\n", "a: !!binary 'abc'\n", "a: !!python/name:os.system\n",
             "--- 1\n--- 2\n", "a: *nowhere\n", "\ufeffplatform: console\n\0"],
)
def test_any_failure_of_the_yaml_reader_is_a_config_error(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    [error] = caught.value.errors
    assert error.startswith(str(path)) and "invalid YAML" in error and "zz" not in error


def test_an_endless_file_is_refused(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(Path("/dev/zero"), environ={})
    assert caught.value.errors == ["/dev/zero: larger than 1 MB, not a configuration file"]


def test_a_config_path_with_a_nul_byte_is_refused():
    with pytest.raises(ConfigError) as caught:
        load_config(Path("config\0.yaml"), environ={})
    assert caught.value.errors == ["config\\x00.yaml: cannot be read (a file path cannot contain a NUL byte)"]


# --- check-config ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"assembly": {"majority_lock": "120000mo"}}, "assembly.majority_lock"),
        ({"assembly": {"minimum_duration": "3000000d"}}, "assembly.minimum_duration"),
        ({"assembly": {"quorum": ".nan"}}, "assembly.quorum"),
        ({"storage": {"path": "/proc/consent.db"}}, "storage.path"),
        ("assembly: {quorum: " + "1" * 5001 + "}\n", "config.yaml: invalid YAML"),
        ("[" * 10000, "config.yaml: invalid YAML"),
    ],
)
def test_check_config_refuses_with_the_key_and_no_traceback(tmp_path, capsys, data, key):
    path = write(tmp_path, data if isinstance(data, str) else yaml.safe_dump(data))
    with pytest.raises(SystemExit) as caught:
        main(["check-config", "--config", str(path)])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert f"  {key}" in err or f"/{key}" in err, err
    assert "Traceback" not in err


# --- What an operator trying it for the first time ran into (issue 17) -----------------------------


@pytest.mark.parametrize(("matrix", "error"), [
    ({"homeserver": "127.0.0.1:8008"},
     "matrix.homeserver: '127.0.0.1:8008' is not a URL: a URL needs http:// or https://, e.g. https://127.0.0.1:8008"),
    ({"homeserver": "localhost"},
     "matrix.homeserver: 'localhost' is not a URL: a URL needs http:// or https://, e.g. https://localhost"),
    ({"user_id": "consent"}, "matrix.user_id: 'consent' is not a Matrix id: a Matrix id starts with @ and has a "
                             "server part, e.g. '@alice:example.org' (in quotes)"),
    ({"allowed_inviters": ["alice"]}, "matrix.allowed_inviters[0]: 'alice' is not a Matrix id: a Matrix id starts "
                                      "with @ and has a server part, e.g. '@alice:example.org' (in quotes), or a "
                                      "server suffix such as ':example.org'"),
])
def test_a_badly_formed_value_is_said_to_be_so_not_to_be_missing(tmp_path, matrix, error):
    assert errors_of(tmp_path, {"platform": "matrix", "matrix": {**MATRIX, **matrix}}) == [error]


def test_member_and_room_ids_are_checked_as_the_platform_writes_them(tmp_path):
    data = {"platform": "matrix", "matrix": MATRIX, "assembly": {"facilitators": ["alice", "@bob"]},
            "rooms": {"general": {"followup": ["@carol:example.org"]}}}
    errors = errors_of(tmp_path, data)
    assert errors == [
        "assembly.facilitators[0]: 'alice' can match no one: a Matrix id starts with @ and has a server part, "
        "e.g. '@alice:example.org' (in quotes)",
        "assembly.facilitators[1]: '@bob' can match no one: a Matrix id starts with @ and has a server part, "
        "e.g. '@alice:example.org' (in quotes)",
        "rooms: the room id 'general': 'general' can match no one: a Matrix room id starts with ! and has a server "
        "part (or, from room version 12, is ! and 43 letters, digits, - and _), in quotes",
    ]
    version_12 = "!" + "jbDMJUWwwzHaWGvyd9E10Om_cibogWfZwjA8AnsYBHA"  # the create event's hash: no server part
    matrix = {"platform": "matrix", "matrix": MATRIX, "rooms": {version_12: {"language": "en"}}}
    assert load_config(write(tmp_path, matrix), environ={}).for_room(version_12).language == "en"
    mattermost = {"platform": "mattermost", "mattermost": MATTERMOST, "assembly": {"facilitators": ["@alice"]}}
    assert errors_of(tmp_path, mattermost) == [
        "assembly.facilitators[0]: '@alice' can match no one: a Mattermost user id is 26 letters and digits "
        "(System Console > Users), not a @username"]
    fine = {"platform": "mattermost", "mattermost": MATTERMOST, "assembly": {"facilitators": ["a" * 26]},
            "rooms": {"c" * 26: {"language": "en"}}}
    assert load_config(write(tmp_path, fine), environ={}).for_room("c" * 26).language == "en"
    console = load_config(write(tmp_path, {"assembly": {"facilitators": ["alice", "@bob"]}}), environ={})
    assert console.assembly.facilitators == {"alice", "@bob"}  # the console's members are names


def test_an_unquoted_room_id_gets_the_hint_to_quote_it(tmp_path):
    path = write(tmp_path, "rooms:\n  !abc:example.org:\n    language: en\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    [error] = caught.value.errors
    assert error.startswith(f"{path}, line 2, column 3: invalid YAML: could not determine a constructor for the tag")
    assert error.endswith("(a room id starts with !, which YAML reads as a tag: put it in quotes, "
                          "\"!abc:example.org\")")


@pytest.mark.parametrize("secret", ["example", "x", "org", "Matrix", "a", "@"])
def test_no_message_reveals_a_secret_by_masking_it(tmp_path, secret):
    # Masking a secret wherever its text appears told it: "e.g. '@consent:***.org'" with the password "example".
    data = {"platform": "matrix", "matrix": {**MATRIX, "user_id": "consent", "homeserver": "localhost"}}
    errors = errors_of(tmp_path, data, {"CONSENT_BOT_MATRIX_PASSWORD": secret, "CONSENT_BOT_MATRIX_ACCESS_TOKEN": secret})
    assert not [line for line in errors if "*" in line]
    assert "e.g. '@alice:example.org' (in quotes)" in errors[1] and "https://localhost" in errors[0]


def test_a_secret_is_required_only_by_run(tmp_path):
    config = load_config(write(tmp_path, {"platform": "matrix", "matrix": {**MATRIX, "access_token": ""}}), environ={})
    assert config.missing_secrets() == [
        "matrix.access_token: not set: export CONSENT_BOT_MATRIX_ACCESS_TOKEN=<the bot's token> (or "
        "CONSENT_BOT_MATRIX_PASSWORD=<its password>, for the bot to log in once)"]
    assert load_config(write(tmp_path, {"platform": "matrix", "matrix": MATRIX}), environ={}).missing_secrets() == []
    with_password = {"platform": "matrix", "matrix": {**MATRIX, "access_token": ""}}
    assert load_config(write(tmp_path, with_password), {"CONSENT_BOT_MATRIX_PASSWORD": "p"}).missing_secrets() == []
    mattermost = load_config(write(tmp_path, {"platform": "mattermost", "mattermost": {"url": "https://chat.org"}}),
                             environ={})
    assert mattermost.missing_secrets() == [
        "mattermost.token: not set: export CONSENT_BOT_MATTERMOST_TOKEN=<the bot account's token>"]


# --- The public register ------------------------------------------------------------------------


def test_the_register_is_off_by_default_on_this_machine_only_with_names_shown():
    register = default_config().register
    assert (register.enabled, register.bind, register.port) == (False, "127.0.0.1", 8080)
    assert (register.public_url, register.licence, register.show_names) == ("", "ODbL-1.0", True)


def test_a_register_section_is_read_into_typed_values(tmp_path):
    data = {"register": {"enabled": True, "bind": "::", "port": 0, "public_url": "https://register.example.org/lille/",
                         "licence": "CC-BY-4.0", "show_names": False},
            "assembly": {"name": "  Assemblée   des communs "}, "rooms": {"!a:b": {"name": "Atelier vélo"}}}
    config = load_config(write(tmp_path, data), environ={})
    assert config.register == config_module.RegisterSettings(
        enabled=True, bind="::", port=0, public_url="https://register.example.org/lille", licence="CC-BY-4.0",
        show_names=False)
    assert config.assembly.name == "Assemblée des communs"
    assert config.for_room("!a:b").name == "Atelier vélo" and config.for_room("!c:d").name == "Assemblée des communs"


@pytest.mark.parametrize(
    ("register", "error"),
    [
        ({"enabled": "yes"}, "register.enabled: expected true or false, got the text 'yes'"),
        ({"bind": ""}, "register.bind: expected an address to listen on"),
        ({"bind": "not an address"}, "register.bind: 'not an address' is neither an IP address nor a host name"),
        ({"bind": "a" * 254}, "register.bind: expected an address to listen on, e.g. 127.0.0.1, 0.0.0.0 or localhost, "
                              "got the text 'aaaa"),
        ({"port": 65536}, "register.port: expected a port number from 1 to 65535 (0: any free port), got the number"),
        ({"port": -1}, "register.port: expected a port number from 1 to 65535"),
        ({"port": "http"}, "register.port: expected a port number"),
        ({"port": True}, "register.port: expected a port number"),
        ({"public_url": "register.example.org"}, "register.public_url: 'register.example.org' is not a URL: a URL "
                                                 "needs http:// or https://, e.g. https://register.example.org"),
        ({"public_url": "ftp://example.org"}, "register.public_url: 'ftp://example.org' is not a valid address: it "
                                              "needs http:// or https://"),
        ({"public_url": "https://[::1"}, "register.public_url: 'https://[::1' is not a valid address"),
        ({"public_url": "https://example.org/?a=1"}, "register.public_url: 'https://example.org/?a=1': the register's"),
        ({"public_url": "https://example.org/" + "a" * 2000}, "register.public_url: an address has at most 2000"),
        ({"public_url": 8080}, "register.public_url: expected an http:// or https:// address, got the number 8080"),
        ({"licence": ""}, "register.licence: expected a licence of at most 200 characters on one line, e.g. ODbL-1.0, "
                          "got the text ''"),
        ({"licence": "x" * 201}, "register.licence: expected a licence of at most 200 characters on one line, e.g. "
                                 "ODbL-1.0, got the text 'xxxx"),
        ({"licence": "ODbL\nor not"}, "register.licence: expected a licence of at most 200 characters on one line"),
        ({"show_names": None}, "register.show_names: expected true or false, got nothing (null)"),
        ({"colour": "red"}, "register.colour: unknown key"),
    ],
)
def test_each_invalid_register_value_is_named_by_its_key(tmp_path, register, error):
    errors = errors_of(tmp_path, {"register": register})
    assert len(errors) == 1, errors
    assert errors[0].startswith(error), errors


@pytest.mark.parametrize(("name", "error"), [
    (42, "assembly.name: expected a name of at most 200 characters, on one line, got the number 42"),
    ("x" * 201, "assembly.name: expected a name of at most 200 characters, on one line, got the text 'xxxx"),
    ("a\x00b", "assembly.name: expected a name of at most 200 characters, on one line, got the text 'a\\x00b'"),
])
def test_an_assembly_name_is_one_bounded_line(tmp_path, name, error):
    errors = errors_of(tmp_path, {"rooms": {"!a:b": {"name": name}}})
    assert len(errors) == 1 and errors[0].startswith("rooms.!a:b." + error.removeprefix("assembly.")), errors


def test_the_register_is_set_from_the_environment(tmp_path):
    environ = {"CONSENT_BOT_REGISTER_ENABLED": "TRUE", "CONSENT_BOT_REGISTER_BIND": "0.0.0.0",
               "CONSENT_BOT_REGISTER_PORT": "9000", "CONSENT_BOT_REGISTER_PUBLIC_URL": "http://localhost:9000/"}
    register = load_config(write(tmp_path, {"register": {"enabled": False, "port": 8000}}), environ).register
    assert (register.enabled, register.bind, register.port, register.public_url) == (
        True, "0.0.0.0", 9000, "http://localhost:9000")
    assert not load_config(write(tmp_path, {}), {"CONSENT_BOT_REGISTER_ENABLED": "0"}).register.enabled


def test_a_wrong_register_value_from_the_environment_names_the_variable(tmp_path):
    errors = errors_of(tmp_path, {}, {"CONSENT_BOT_REGISTER_ENABLED": "maybe", "CONSENT_BOT_REGISTER_PORT": "99999"})
    assert errors == [
        "register.enabled (from CONSENT_BOT_REGISTER_ENABLED): expected true or false, got the text 'maybe'",
        "register.port (from CONSENT_BOT_REGISTER_PORT): expected a port number from 1 to 65535 (0: any free port), "
        "got the number 99999",
    ]


def test_an_item_of_a_list_missing_its_required_keys_is_told_which(tmp_path):
    # Lists of sections (topics, officials) are tuples in the models: each missing key is named, not a crash.
    assert errors_of(tmp_path, {"assembly": {"topics": [{}], "officials": [{"name": "Martine"}]}}) == [
        "assembly.officials[0].id: required: a stable id, as commands name the official (!fact #3 martine-dupont …) "
        "and the register's addresses",
        "assembly.officials[0].mandate_start: required: the first day of the mandate",
        "assembly.topics[0].id: required: a stable id, as commands name the topic (!propose topic transport …) and "
        "the register's addresses"]


# --- Networks of rooms --------------------------------------------------------------------------------


def test_example_network_in_the_comments_is_valid_its_rules_over_the_assembly_s(tmp_path):
    document = yaml.safe_load(commented_example("networks")) | {"assembly": {
        "minimum_duration": "96h", "email": {"host": "smtp.example.org", "sender": "bot@example.org"}}}
    config = load_config(write(tmp_path, document), environ={})
    [network] = config.networks
    assert (network.id, network.scope, len(network.rooms)) == ("metropole", "network:metropole", 2)
    rules = network.rules_over(config.assembly, config.for_room(network.rooms[0]))
    assert rules.code.quorum == Fraction(1, 4) and rules.code.minimum_duration == timedelta(hours=96)
    # Its own list, through the assembly's mail server.
    assert (rules.email.lists, rules.email.host, rules.email.sender) == (
        ("metropole@lists.example.org",), "smtp.example.org", "bot@example.org")
    assert config.announces()


def test_a_room_may_be_in_two_networks_and_a_network_s_rooms_need_not_be_known(tmp_path):
    config = load_config(write(tmp_path, {"networks": [{"id": "a", "rooms": ["!x:s", "!y:s"]},
                                                        {"id": "b", "rooms": ["!y:s"]}]}), environ={})
    assert [n.id for n in config.networks if "!y:s" in n.rooms] == ["a", "b"]


@pytest.mark.parametrize(("networks", "error"), [
    ([{"id": "a", "rooms": ["!x:s"]}, {"id": "a", "rooms": ["!y:s"]}], "networks: two networks have the id 'a'"),
    ([{"id": "a", "rooms": ["!x:s", "!x:s"]}], "networks[0].rooms: the room '!x:s' is listed twice"),
    ([{"id": "Métropole", "rooms": ["!x:s"]}], "networks[0].id: expected an id of at most 40 lowercase letters"),
    ([{"id": "a", "rooms": [f"!{n}:s" for n in range(51)]}], "networks[0].rooms: at most 50 room ids, got 51"),
    ([{"id": f"n{n}", "rooms": ["!x:s"]} for n in range(21)], "networks: at most 20 networks, got 21"),
    ([{"id": "a", "rooms": ["!x:s"], "language": "en"}], "networks[0].language: not a network's setting"),
    ([{"id": "a", "rooms": ["!x:s"], "quorum": 2}], "networks[0].quorum: must be a share between 0 and 1"),
    ([{"id": "a"}], "networks[0].rooms: required"),
])
def test_a_network_is_checked_key_by_key(tmp_path, networks, error):
    [found] = errors_of(tmp_path, {"networks": networks})
    assert found.startswith(error), found
