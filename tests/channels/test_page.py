"""What a page says: the severity, the service, the title and the incident."""

import pytest

from channels.page import Page

FULL = Page(42, "disk full on db-3", "critical", service="orders-db")


@pytest.mark.parametrize(
    ("page", "headline", "spoken"),
    [
        # the example: the service comes before what is wrong with it
        (
            FULL,
            "[critical] orders-db: disk full on db-3 (incident 42)",
            "critical, orders-db, disk full on db-3, incident 42",
        ),
        # an incident that no route gave a service: nothing empty is said
        (
            Page(7, "cpu hot", "warning"),
            "[warning] cpu hot (incident 7)",
            "warning, cpu hot, incident 7",
        ),
    ],
)
def test_a_page_names_severity_service_title_and_incident(page, headline, spoken):
    assert (page.headline, page.spoken) == (headline, spoken)


def test_an_sms_carries_the_headline_and_the_short_codes():
    assert FULL.sms == (
        "[critical] orders-db: disk full on db-3 (incident 42). Reply 42a to "
        "acknowledge, 42e to escalate, 42r to resolve."
    )
