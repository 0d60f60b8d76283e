"""The YAML configuration: teams, users, services, routes and integrations.

Every problem is reported by its path (`services.orders-db.team: unknown team
'dba'`), all of them at once, so a broken file is fixed in one pass.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
import yaml

from engine.core.matchers import Matcher, MatcherError, parse_matcher
from engine.core.severity import SEVERITIES

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_TOKEN = re.compile(r"^[A-Za-z0-9._~-]+$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_SHIFT = re.compile(r"^\s*(\d+)\s*(h|d|w)\s*$")
_SHIFT_UNITS = {
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TARGET_KINDS = ("user", "schedule", "team")
CONTACT_KINDS = ("apprise", "sms", "voice")


class ConfigError(Exception):
    """A configuration that cannot be used; `problems` names each by its path."""

    def __init__(self, problems: list[str], source: str = "config") -> None:
        self.problems = problems
        self.source = source
        super().__init__(f"{source}: " + "; ".join(problems))


def parse_duration(text: str) -> float:
    """Seconds in a duration such as `30s`, `10m`, `2h` or `1d`."""
    found = _DURATION.match(str(text))
    if not found:
        raise ValueError(f"expected a duration such as 30s, 10m or 2h, got {text!r}")
    return float(found.group(1)) * _UNITS[found.group(2)]


def parse_clock(value: str | int) -> time:
    """A time of day from `HH:MM`.

    YAML 1.1 reads an unquoted `17:30` as the base-60 number 1050: such a
    number is taken back as the clock time it was written as.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value // 60:02d}:{value % 60:02d}"
    found = _CLOCK.match(str(value))
    if not found or int(found.group(1)) > 23 or int(found.group(2)) > 59:
        raise ValueError("expected HH:MM")
    return time(int(found.group(1)), int(found.group(2)))


def parse_shift(text: str) -> timedelta:
    """A shift length: whole hours, days or weeks (`12h`, `1d`, `2w`)."""
    found = _SHIFT.match(str(text))
    if not found or int(found.group(1)) == 0:
        raise ValueError(f"expected a shift length such as 12h, 1d or 1w, got {text!r}")
    return int(found.group(1)) * _SHIFT_UNITS[found.group(2)]


def parse_target(text: str) -> tuple[str, str]:
    """`user:alice`, `schedule:primary` or `team:database` as (kind, name)."""
    kind, _, name = str(text).partition(":")
    if kind not in TARGET_KINDS or not name:
        raise ValueError(
            f"expected user:NAME, schedule:NAME or team:NAME, got {text!r}"
        )
    return kind, name


class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    pass


class ContactMethod(_Section, kw_only=True):
    """One way to reach a person: exactly one of an apprise URL or a number.

    Addresses are secrets (a URL carries a token): `repr` hides them.
    """

    apprise: str | None = None
    sms: str | None = None
    voice: str | None = None
    throttle: str | None = None  # `3/15m`, or `off`; calls and SMS have defaults

    @property
    def kind(self) -> str:
        return next((k for k in CONTACT_KINDS if getattr(self, k)), "")

    @property
    def address(self) -> str:
        return getattr(self, self.kind, None) or ""

    def __repr__(self) -> str:
        return f"ContactMethod({self.kind}=<secret>)"


class NotificationRule(_Section, kw_only=True):
    """Use contact method `method` `delay` after the page (`0s`: at once)."""

    method: str
    delay: str = "0s"


class QuietHours(_Section, kw_only=True):
    """Hours when low-urgency pages wait, in the user's own time zone."""

    start: str | int = msgspec.field(name="from")
    end: str | int = msgspec.field(name="to")
    timezone: str = "UTC"


class User(_Section, kw_only=True):
    """A person who can be on call and act on incidents."""

    name: str
    logins: list[str] = []
    email: str | None = None
    contact_methods: dict[str, ContactMethod] = {}
    notification_rules: dict[str, list[NotificationRule]] = {}  # by urgency
    quiet_hours: QuietHours | None = None


class Team(_Section, kw_only=True):
    """People who own services together."""

    name: str | None = None
    members: list[str] = []
    chat_room: str | None = None  # an apprise URL: a secret


class Plivo(_Section, kw_only=True):
    """The Plivo account that places calls and sends SMS.

    `api_url` points the SDK elsewhere than Plivo (a local fake, in tests).
    """

    auth_id: str
    auth_token: str
    number: str
    api_url: str = "https://api.plivo.com"

    def __repr__(self) -> str:
        return f"Plivo(auth_id={self.auth_id!r}, auth_token=<secret>)"


class Notify(_Section, kw_only=True):
    """Delivery-wide settings: pages to one person within the window bundle."""

    bundle_window: str = "30s"  # `0s`: every page goes on its own


class Service(_Section, kw_only=True):
    """What an alert is about; owned by a team."""

    team: str
    description: str = ""
    escalation_policy: str | None = None
    ack_timeout: str | None = None  # acknowledged but unresolved this long: retrigger
    # Severities that wake people for this service; default critical and error.
    high_urgency: list[str] | None = None
    flapping: Flapping | None = None
    storm: Storm | None = None
    maintenance: list[MaintenanceWindow] = []


class Route(_Section, kw_only=True):
    """Label matchers that send an alert to a service; the first match wins."""

    match: list[str] = []
    service: str
    group_by: list[str] | None = None  # `...` for every label
    group_wait: str | None = None
    group_window: str | None = None
    max_alerts: int | None = None


class Integration(_Section, kw_only=True):
    """A monitoring source that posts to the gateway with its own token."""

    kind: str
    token: str
    service: str | None = None
    timezone: str | None = None


class Grouping(_Section, kw_only=True):
    """How alerts without a source group become incidents."""

    window: str = "10m"
    group_by: list[str] = []  # empty: Alertmanager's group, else by service
    group_wait: str = "0s"
    max_alerts: int = 0  # 0: no limit
    reopen_window: str = "30m"


class Gateway(_Section, kw_only=True):
    """Where senders reach the gateway; used to print integration URLs."""

    public_url: str | None = None


class Flapping(_Section, kw_only=True):
    """`changes` state changes within `window` mark an alert flapping."""

    changes: int = 4
    window: str = "60m"
    mute: str = "120m"
    enabled: bool = True


class Storm(_Section, kw_only=True):
    """New alerts per minute per service past which a storm starts (0: off)."""

    threshold: int = 100


class MaintenanceWindow(_Section, kw_only=True):
    """A weekly window of a service: weekdays, from and to, in a time zone."""

    days: list[str] = msgspec.field(default_factory=lambda: list(WEEKDAYS))
    start: str | int = msgspec.field(name="from")
    end: str | int = msgspec.field(name="to")
    timezone: str = "UTC"
    name: str = ""


class InhibitRule(_Section, kw_only=True):
    """While a `source` alert fires, `target` alerts with `equal` labels hold."""

    source: list[str]
    target: list[str]
    equal: list[str] = []


class Silences(_Section, kw_only=True):
    """Run-time silences: how long before its end a silence says so."""

    warn_before: str = "10m"


class Restriction(_Section, kw_only=True):
    """Weekdays and a time of day when a layer applies, in the schedule's zone."""

    days: list[str] = msgspec.field(default_factory=lambda: list(WEEKDAYS))
    start: str | int = msgspec.field(name="from", default="00:00")
    end: str | int = msgspec.field(name="to", default="00:00")


class Layer(_Section, kw_only=True):
    """A rotation: members taking shifts of `shift` (12h, 1d, 1w) in turn."""

    members: list[str]
    shift: str
    handoff: str | int = "09:00"
    start: date
    name: str | None = None
    restrictions: list[Restriction] = []
    advance_on_restricted: bool = False


class ScheduleSection(_Section, kw_only=True):
    """Layers of rotations in an IANA time zone; later layers win."""

    timezone: str
    layers: list[Layer] = []


class EscalationLevel(_Section, kw_only=True):
    """Targets (`user:alice`, `schedule:primary`, `team:db`) and the delay after."""

    targets: list[str]
    delay: str = "5m"


class EscalationPolicySection(_Section, kw_only=True):
    """Levels in order, gone through `repeat` more times after the first."""

    levels: list[EscalationLevel] = []
    repeat: int = 0


class Config(msgspec.Struct, kw_only=True, frozen=True):
    """A validated configuration."""

    teams: dict[str, Team] = {}
    users: dict[str, User] = {}
    services: dict[str, Service] = {}
    routes: list[Route] = []
    integrations: dict[str, Integration] = {}
    default_service: str | None = None
    grouping: Grouping = Grouping()
    gateway: Gateway = Gateway()
    schedules: dict[str, ScheduleSection] = {}
    escalation_policies: dict[str, EscalationPolicySection] = {}
    flapping: Flapping = Flapping()
    storm: Storm = Storm()
    inhibit_rules: list[InhibitRule] = []
    silences: Silences = Silences()
    plivo: Plivo | None = None
    notify: Notify = Notify()
    path: str | None = None

    @property
    def group_window(self) -> float:
        return parse_duration(self.grouping.window)

    def compiled_routes(self) -> list[tuple[tuple[Matcher, ...], str]]:
        """Routes as (matchers, service) pairs, in order."""
        return [
            (tuple(parse_matcher(m) for m in r.match), r.service) for r in self.routes
        ]

    def integration_by_token(self, token: str) -> tuple[str, Integration] | None:
        for name, integration in self.integrations.items():
            if integration.token == token:
                return name, integration
        return None

    def handle_for_login(self, login: str) -> str | None:
        """The user handle whose `logins` holds `login`, or `login` if it is one."""
        for handle, user in self.users.items():
            if login in user.logins:
                return handle
        return login if login in self.users else None


_SECTIONS: dict[str, Any] = {
    "teams": dict[str, Team],
    "users": dict[str, User],
    "services": dict[str, Service],
    "routes": list[Route],
    "integrations": dict[str, Integration],
    "default_service": str | None,
    "grouping": Grouping,
    "gateway": Gateway,
    "schedules": dict[str, ScheduleSection],
    "escalation_policies": dict[str, EscalationPolicySection],
    "flapping": Flapping,
    "storm": Storm,
    "inhibit_rules": list[InhibitRule],
    "silences": Silences,
    "plivo": Plivo | None,
    "notify": Notify,
}


_ENTRIES: dict[str, type] = {
    "teams": Team,
    "users": User,
    "services": Service,
    "integrations": Integration,
    "schedules": ScheduleSection,
    "escalation_policies": EscalationPolicySection,
}


def _path_of(section: str, err: msgspec.ValidationError) -> str:
    message = str(err)
    where = ""
    if " - at `$" in message:
        message, where = message.rsplit(" - at `$", 1)
        where = where.rstrip("`")
    where = re.sub(r"\['([^']*)'\]", r".\1", where)
    return f"{section}{where}: {message[0].lower()}{message[1:]}"


def _convert_sections(raw: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in raw:
        if key not in _SECTIONS:
            expected = ", ".join(_SECTIONS)
            problems.append(f"{key}: unknown section (expected one of {expected})")
    for key, kind in _SECTIONS.items():
        if key not in raw or raw[key] is None:
            continue
        entry_kind = _ENTRIES.get(key)
        if entry_kind is not None and isinstance(raw[key], dict):
            values[key] = _convert_entries(key, raw[key], entry_kind, problems)
            continue
        try:
            values[key] = msgspec.convert(raw[key], kind)
        except msgspec.ValidationError as err:
            problems.append(_path_of(key, err))
    return values


def _convert_entries(section: str, raw: dict, kind: type, problems: list[str]) -> dict:
    # One entry at a time, so that every broken entry is named by its key.
    entries = {}
    for name, value in raw.items():
        try:
            entries[str(name)] = msgspec.convert(value, kind)
        except msgspec.ValidationError as err:
            problems.append(_path_of(f"{section}.{name}", err))
    return entries


def _check_references(config: Config, problems: list[str], kinds: set[str]) -> None:
    for name in config.teams:
        if not _NAME.match(name):
            problems.append(
                f"teams.{name}: names are lowercase letters, digits, - and _"
            )
    for name, team in config.teams.items():
        for i, member in enumerate(team.members):
            if member not in config.users:
                problems.append(f"teams.{name}.members[{i}]: unknown user {member!r}")
    for name, service in config.services.items():
        if service.team not in config.teams:
            problems.append(f"services.{name}.team: unknown team {service.team!r}")
        for i, severity in enumerate(service.high_urgency or ()):
            if severity not in SEVERITIES:
                problems.append(
                    f"services.{name}.high_urgency[{i}]: not a severity {severity!r} "
                    "(critical, error, warning, info)"
                )
    for i, route in enumerate(config.routes):
        if route.service not in config.services:
            problems.append(f"routes[{i}].service: unknown service {route.service!r}")
        for j, text in enumerate(route.match):
            try:
                parse_matcher(text)
            except MatcherError as err:
                problems.append(f"routes[{i}].match[{j}]: {err}")
    _check_integrations(config, problems, kinds)
    _check_logins(config, problems)
    _check_schedules(config, problems)
    _check_escalation(config, problems)
    _check_noise(config, problems)
    _check_contacts(config, problems)
    if config.default_service is None:
        problems.append(
            "default_service: missing (alerts that match no route need an owner)"
        )
    elif config.default_service not in config.services:
        problems.append(f"default_service: unknown service {config.default_service!r}")
    try:
        parse_duration(config.grouping.window)
    except ValueError as err:
        problems.append(f"grouping.window: {err}")


def _check_integrations(config: Config, problems: list[str], kinds: set[str]) -> None:
    seen: dict[str, str] = {}
    for name, integration in config.integrations.items():
        path = f"integrations.{name}"
        if kinds and integration.kind not in kinds:
            problems.append(
                f"{path}.kind: unknown kind {integration.kind!r} "
                f"(expected one of {', '.join(sorted(kinds))})"
            )
        if len(integration.token) < 16:
            problems.append(f"{path}.token: too short, use at least 16 characters")
        elif not _TOKEN.match(integration.token):
            problems.append(
                f"{path}.token: use only letters, digits and . _ ~ - (it goes in a URL)"
            )
        if integration.token in seen:
            problems.append(
                f"{path}.token: the same token as "
                f"integrations.{seen[integration.token]}"
            )
        seen[integration.token] = name
        if integration.service and integration.service not in config.services:
            problems.append(f"{path}.service: unknown service {integration.service!r}")
        if integration.timezone and not _is_zone(integration.timezone):
            problems.append(
                f"{path}.timezone: unknown time zone {integration.timezone!r}"
            )


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _check_logins(config: Config, problems: list[str]) -> None:
    owners: dict[str, str] = {}
    for handle, user in config.users.items():
        for i, login in enumerate(user.logins):
            if login in owners and owners[login] != handle:
                problems.append(
                    f"users.{handle}.logins[{i}]: {login!r} is also "
                    f"a login of {owners[login]}"
                )
            owners[login] = handle


def _check_schedules(config: Config, problems: list[str]) -> None:
    for name, schedule in config.schedules.items():
        path = f"schedules.{name}"
        try:
            ZoneInfo(schedule.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"{path}.timezone: unknown time zone {schedule.timezone!r}")
        if not schedule.layers:
            problems.append(f"{path}.layers: a schedule needs at least one layer")
        for i, layer in enumerate(schedule.layers):
            _check_layer(config, f"{path}.layers[{i}]", i, layer, problems)


def _check_layer(config: Config, path: str, i: int, layer, problems) -> None:
    if not layer.members:
        problems.append(f"{path}.members: layer {i + 1} has no users")
    for j, member in enumerate(layer.members):
        if member not in config.users:
            problems.append(f"{path}.members[{j}]: unknown user {member!r}")
    checks = [
        ("shift", parse_shift, layer.shift),
        ("handoff", parse_clock, layer.handoff),
    ]
    for k, restriction in enumerate(layer.restrictions):
        where = f"restrictions[{k}]"
        checks += [(f"{where}.from", parse_clock, restriction.start)]
        checks += [(f"{where}.to", parse_clock, restriction.end)]
        for d, day in enumerate(restriction.days):
            if day not in WEEKDAYS:
                problems.append(
                    f"{path}.{where}.days[{d}]: expected one of {', '.join(WEEKDAYS)}"
                )
    for field_path, parse, value in checks:
        try:
            parse(value)
        except ValueError as err:
            problems.append(f"{path}.{field_path}: {err}")


def _check_escalation(config: Config, problems: list[str]) -> None:
    known = {"user": config.users, "schedule": config.schedules, "team": config.teams}
    for name, policy in config.escalation_policies.items():
        path = f"escalation_policies.{name}"
        if not policy.levels:
            problems.append(f"{path}.levels: a policy needs at least one level")
        if not 0 <= policy.repeat <= 20:
            problems.append(f"{path}.repeat: expected 0 to 20")
        for i, level in enumerate(policy.levels):
            where = f"{path}.levels[{i}]"
            if not level.targets:
                problems.append(f"{where}.targets: a level needs at least one target")
            for j, text in enumerate(level.targets):
                try:
                    kind, target = parse_target(text)
                except ValueError as err:
                    problems.append(f"{where}.targets[{j}]: {err}")
                    continue
                if target not in known[kind]:
                    problems.append(f"{where}.targets[{j}]: unknown {kind} {target!r}")
            try:
                if parse_duration(level.delay) < 1:
                    problems.append(f"{where}.delay: at least 1s")
            except ValueError as err:
                problems.append(f"{where}.delay: {err}")
    for name, service in config.services.items():
        path = f"services.{name}"
        if service.escalation_policy and (
            service.escalation_policy not in config.escalation_policies
        ):
            problems.append(
                f"{path}.escalation_policy: unknown escalation policy "
                f"{service.escalation_policy!r}"
            )
        if service.ack_timeout is not None:
            try:
                parse_duration(service.ack_timeout)
            except ValueError as err:
                problems.append(f"{path}.ack_timeout: {err}")


def _check_noise(config: Config, problems: list[str]) -> None:
    from engine import noise  # the noise rules are compiled there

    problems.extend(noise.problems_of(config))


def _check_contacts(config: Config, problems: list[str]) -> None:
    from engine import contacts  # apprise is loaded there, only when needed

    problems.extend(contacts.problems_of(config))


def parse_config(
    text: str, source: str = "config", kinds: set[str] | None = None
) -> Config:
    """Validate YAML text; raise ConfigError naming every problem by its path."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(
            [f"not valid YAML{where}: {getattr(err, 'problem', err)}"], source
        ) from err
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(
            [f"expected a mapping at the top, got {type(raw).__name__}"], source
        )
    problems: list[str] = []
    values = _convert_sections(raw, problems)
    if problems:
        raise ConfigError(problems, source)
    config = Config(**values, path=source)
    _check_references(config, problems, kinds if kinds is not None else _known_kinds())
    if problems:
        raise ConfigError(problems, source)
    return config


def load_config(path: str | Path) -> Config:
    """Read and validate a config file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError([f"cannot read: {err.strerror or err}"], str(path)) from err
    except UnicodeDecodeError as err:
        problem = f"not UTF-8 text (byte {err.start} is {err.object[err.start]:#04x})"
        raise ConfigError([problem], str(path)) from err
    config = parse_config(text, str(path))
    return config


def _known_kinds() -> set[str]:
    from engine.integrations import PARSERS

    return set(PARSERS)
