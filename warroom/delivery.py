"""Delivery assembled from the config: the address book, senders, callbacks.

`channels` never reads the config; this is where the config's users, teams
and Plivo account become the channel worker's parts.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bus.client import EngineClient
from channels.apprise import AppriseSender
from channels.contacts import Book, Method, Person, Rule
from channels.plivo import Account, PlivoCallbacks, PlivoSender
from channels.quiet import QuietHours
from channels.throttle import DEFAULTS, Throttle
from channels.worker import Sender
from engine.config import Config, ContactMethod, User, parse_clock, parse_duration
from engine.contacts import parse_throttle


def book_of(config: Config) -> Book:
    """Everyone's contact methods and rules, and each team's chat room."""
    people = {}
    for handle, user in config.users.items():
        methods = {
            name: Method(name, m.kind, m.address, throttle_of(m))
            for name, m in user.contact_methods.items()
        }
        rules = {
            urgency: tuple(Rule(parse_duration(r.delay), r.method) for r in found)
            for urgency, found in user.notification_rules.items()
        }
        people[handle] = Person(handle, user.name, methods, rules, quiet_of(user))
    rooms = {
        name: Method("room", "apprise", team.chat_room)
        for name, team in config.teams.items()
        if team.chat_room
    }
    return Book(people, rooms, parse_duration(config.notify.bundle_window))


def quiet_of(user: User) -> QuietHours | None:
    """The user's quiet hours, in their own time zone, if they set any."""
    quiet = user.quiet_hours
    if quiet is None:
        return None
    zone = ZoneInfo(quiet.timezone)
    return QuietHours(parse_clock(quiet.start), parse_clock(quiet.end), zone)


def throttle_of(method: ContactMethod) -> Throttle | None:
    """The method's own throttle, else the default of its kind (calls, SMS)."""
    if method.throttle is None:
        return DEFAULTS.get(method.kind)
    found = parse_throttle(method.throttle)
    return Throttle(*found) if found else None


def account_of(config: Config, callback_url: str) -> Account | None:
    """The Plivo account, with the URL Plivo calls back, if one is configured."""
    plivo = config.plivo
    if plivo is None:
        return None
    url = config.gateway.public_url or callback_url
    return Account(plivo.auth_id, plivo.auth_token, plivo.number, url, plivo.api_url)


def senders_of(config: Config, callback_url: str) -> dict[str, Sender]:
    """A sender per delivery method the config can use."""
    senders: dict[str, Sender] = {"apprise": AppriseSender()}
    account = account_of(config, callback_url)
    if account is not None:
        senders["sms"] = PlivoSender(account, "sms")
        senders["voice"] = PlivoSender(account, "voice")
    return senders


def callbacks_of(config: Config, callback_url: str, nc) -> PlivoCallbacks | None:
    """Plivo's callback routes, sending commands over the bus, if Plivo is used."""
    account = account_of(config, callback_url)
    if account is None:
        return None
    return PlivoCallbacks(account, book_of(config), EngineClient(nc).reply)
