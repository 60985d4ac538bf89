"""Every page of the application, as a customer and as an operator sees it: every form
control has a label (a ``<label for>``, a ``<label>`` around it, or ``aria-label``), every
image a text, every page its language, and no page names an asset of another host."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from domain.accounts.user import UserRole
from tests.integration.api.test_list_campaigns import customer_with_list
from tests.integration.api.test_people import staff_session
from tests.integration.api.test_web_pages import sign_in
from tests.support.api import ApiHarness

CONTROLS = {"input", "select", "textarea"}
UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class Controls(HTMLParser):
    """The page's form controls and what labels them."""

    def __init__(self) -> None:
        super().__init__()
        self.labelled_ids: set[str] = set()
        self.controls: list[dict[str, str | None]] = []
        self.images: list[dict[str, str | None]] = []
        self.depth_in_label = 0
        self.lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html":
            self.lang = found.get("lang")
        elif tag == "label":
            self.depth_in_label += 1
            if found.get("for"):
                self.labelled_ids.add(str(found["for"]))
        elif tag in CONTROLS and found.get("type") not in UNLABELLED_TYPES:
            self.controls.append(found | {"_wrapped": "yes" if self.depth_in_label else None})
        elif tag == "img":
            self.images.append(found)

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.depth_in_label -= 1


def problems(html: str) -> list[str]:
    parsed = Controls()
    parsed.feed(html)
    found = [] if parsed.lang else ["no lang on <html>"]
    for control in parsed.controls:
        if not (control.get("_wrapped") or control.get("aria-label")
                or control.get("id") in parsed.labelled_ids):  # fmt: skip
            found.append(f"no label: {control}")
    found += [f"no alt: {img}" for img in parsed.images if not img.get("alt")]
    if re.search(r'(src|href|action)="(https?:)?//', html):
        found.append("names another host")
    return found


def test_every_customer_page_labels_its_controls(api: ApiHarness) -> None:
    customer, list_id = customer_with_list(api, 3)
    api.catch_up()
    assert sign_in(api, customer.username).status_code == 303
    paths = ["/app", "/app/senden", f"/app/senden?liste={list_id}", "/app/auftraege",
             "/app/antworten", "/app/listen", f"/app/listen/{list_id}", "/app/sperrliste",
             "/app/guthaben", "/app/benutzer", "/app/zugang", "/app/zwei-faktor"]  # fmt: skip
    recipient = re.search(rf'href="(/app/listen/{list_id}/empfaenger/\d+)"',
                          api.client.get(f"/app/listen/{list_id}").text)  # fmt: skip
    assert recipient
    paths.append(recipient.group(1))
    for path in paths:
        shown = api.client.get(path)
        assert shown.status_code == 200, (path, shown.text)
        assert problems(shown.text) == [], path
    api.client.cookies.clear()
    for path in ("/", "/anmelden", "/registrieren", "/passwort-vergessen"):
        shown = api.client.get(path)
        assert shown.status_code == 200, path
        assert problems(shown.text) == [], path


def test_every_staff_page_labels_its_controls(api: ApiHarness) -> None:
    customer, _list_id = customer_with_list(api, 2)
    api.catch_up()
    staff_session(api, "alma-op", UserRole.OPERATOR)
    account = f"/app/mitarbeiter/konten/{customer.account_id}"
    for path in ("/app/mitarbeiter", account, f"{account}/verlauf",
                 "/app/mitarbeiter/empfangsberichte", "/app/finanzen",
                 "/app/finanzen/journal"):  # fmt: skip
        shown = api.client.get(path)
        assert shown.status_code == 200, (path, shown.text)
        assert problems(shown.text) == [], path


def test_the_check_finds_what_it_looks_for() -> None:
    fine = (
        '<html lang="de"><label>Name <input name="a"></label><label for="b">B</label>'
        '<input id="b"><input type="hidden" name="c"><input name="d" aria-label="D">'
        '<img src="/x.svg" alt="x"></html>'
    )
    assert problems(fine) == []
    found = problems(
        '<html><input id="e"><select name="f"></select><img src="/y.svg">'
        '<a href="https://cdn.example/x.js">x</a></html>'
    )
    assert len(found) == 5  # no lang, two unlabelled controls, an image without text, a host
