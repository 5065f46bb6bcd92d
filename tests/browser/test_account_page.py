"""The account page in a real browser: headless Chromium from Debian's packages, driven by
Selenium through Debian's chromedriver, against `local-api` (the API as `cargo run` serves it) on
the in-memory store and on DynamoDB (moto).

Run them with `bash scripts/browser-test` (it installs Chromium, Selenium, pytest and axe-core
when missing, builds local-api, starts moto and runs pytest here); `bash scripts/test` runs them
after the cargo tests. Each test that involves the store runs on both stores.

What they show:
- two browsers (separate Chromium instances, separate cookie jars) signed in as one user each
  see both sessions; one signs the other out, whose next action shows it signed out;
- a reload keeps you signed in (the HttpOnly refresh cookie, which no script can read);
- changing the password keeps this browser signed in and signs the other out; deleting the
  account signs both out and removes the cookie;
- a page on another origin cannot use that cookie: its CORS request fails, its simple request
  rotates nothing;
- axe-core finds no serious or critical accessibility violation in either view;
- errors are shown in words (wrong password, taken name, a field's rule, too many attempts,
  the service unreachable);
- the User-Agent and time formatting the page uses;
- two-factor sign-in: turned on with the key the page shows and a code computed from it, a
  sign-in that asks for the code (a wrong one said so), one with a recovery code (used once),
  the list marking sessions opened with it, and turning it off.
"""

import base64
import hashlib
import hmac
import os
import re
import secrets
import struct
import time

from pages import PASSWORD

FIREFOX_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0")


def unique_name(prefix):
    return f"{prefix}-{secrets.token_hex(4)}"


def registered(page, prefix="browser"):
    """Opens the page, registers a fresh user (which signs in) and returns the name."""
    name = unique_name(prefix)
    page.open()
    assert page.signed_out(), "a fresh browser starts signed out"
    page.register(name)
    page.wait_signed_in()
    return name


def totp(secret, offset=0):
    """The 6-digit code of base32 `secret` for the step `offset` steps from now (RFC 6238)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    step = int(time.time()) // 30 + offset
    mac = hmac.new(key, struct.pack(">q", step), hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


def a_wrong_code(secret):
    return next(c for c in ("000000", "111111", "222222")
                if c not in (totp(secret, -1), totp(secret), totp(secret, 1)))


def run_axe(page, axe_source):
    """axe-core's serious and critical violations on the page as it is now."""
    page.driver.execute_script(axe_source)
    result = page.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        "  .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,"
        "     nodes: v.nodes.map(n => n.target.join(' '))}))),"
        "        e => done({error: String(e)}));")
    assert not (isinstance(result, dict) and "error" in result), result
    return [v for v in result if v["impact"] in ("serious", "critical")]


def test_two_browsers_see_and_end_each_others_sessions(api, browser):
    first = browser(api)
    name = registered(first)
    assert first.username() == name
    # Focus moved to the list after signing in.
    assert first.focused_id() == "sessions-heading"

    second = browser(api, user_agent=FIREFOX_ON_WINDOWS).open()
    second.sign_in(name)
    second.wait_signed_in()
    assert [s["current"] for s in second.sessions()].count(True) == 1

    first.reload_list()
    sessions = first.sessions()
    assert sorted(s["label"] for s in sessions) == ["Chrome on Linux", "Firefox on Windows"]
    mine = next(s for s in sessions if s["current"])
    other = next(s for s in sessions if not s["current"])
    assert mine["label"] == "Chrome on Linux" and mine["button"] is None
    assert other["ip"] == "127.0.0.1"
    # The button says which session it ends.
    assert other["button"].startswith("Sign out Firefox on Windows, signed in ")
    assert other["button"].endswith(" ago") or other["button"].endswith(" now")
    # Times are machine-readable and shown relative.
    for iso, text in other["times"]:
        assert iso.endswith("Z") and ("ago" in text or text == "now")
    if os.environ.get("ACCOUNT_PAGE_SCREENSHOT"):  # docs/account-page.png, 1000 × 700
        first.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 1000, "height": 700, "deviceScaleFactor": 1, "mobile": False})
        first.driver.execute_script("window.scrollTo(0, 0)")
        first.driver.save_screenshot(os.environ["ACCOUNT_PAGE_SCREENSHOT"])
        first.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    first.sign_out_session("Firefox on Windows")
    assert first.notice() == "Signed out Firefox on Windows."
    assert [s["label"] for s in first.sessions()] == ["Chrome on Linux"]
    assert first.focused_id() == "sessions-heading"

    # The second browser's next action finds its session over.
    second.reload_list()
    second.wait_signed_out()
    assert "signed out" in second.notice()
    assert second.focused_id() == "sign-in-heading"
    # The first is unaffected.
    first.reload_list()
    assert [s["label"] for s in first.sessions()] == ["Chrome on Linux"]

    # Signing out everywhere ends the first too, and removes its cookie.
    first.click("sign-out-everywhere")
    first.wait_signed_out()
    assert first.notice() == "You are signed out on every device."
    assert first.refresh_cookie() is None
    first.reload()
    assert first.signed_out()

    assert first.console_errors() == []
    assert second.console_errors() == []


def test_a_reload_keeps_you_signed_in_and_no_script_sees_the_refresh_token(api, browser):
    page = browser(api)
    name = registered(page)

    cookie = page.refresh_cookie()
    assert cookie is not None, "the refresh token is kept as a cookie"
    assert cookie["name"] == "__Secure-refresh_token"
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/refresh"
    assert page.script_visible_cookies() == ""
    assert page.web_storage() == {"local": 0, "session": 0}

    page.reload()
    page.wait_signed_in()
    assert page.username() == name
    assert len(page.sessions()) == 1
    # The reload's refresh rotated the token: the cookie holds a new one.
    assert page.refresh_cookie()["value"] != cookie["value"]
    assert page.script_visible_cookies() == ""
    assert page.web_storage() == {"local": 0, "session": 0}

    # Signing out clears the cookie: a reload then shows the form.
    page.click("sign-out-here")
    page.wait_signed_out()
    assert page.notice() == "You are signed out."
    assert page.focused_id() == "sign-in-heading"
    assert page.refresh_cookie() is None
    page.reload()
    assert page.signed_out()
    assert page.console_errors() == []


CROSS_ORIGIN_ATTEMPTS = """
const [api, done] = [arguments[0], arguments[arguments.length - 1]];
const outcome = {};
try {
  const r = await fetch(api + '/refresh', {method: 'POST', credentials: 'include',
                                           headers: {'Token-Delivery': 'cookie'}});
  outcome.cors = 'answered ' + r.status;
} catch (e) {
  outcome.cors = 'failed: ' + e.name;
}
try {
  const r = await fetch(api + '/refresh', {method: 'POST', credentials: 'include',
                                           mode: 'no-cors'});
  outcome.simple = r.type;
} catch (e) {
  outcome.simple = 'failed: ' + e.name;
}
done(outcome);
"""


def test_a_page_on_another_origin_cannot_refresh_with_the_cookie(api, browser, other_origin):
    page = browser(api)
    registered(page)
    before = page.refresh_cookie()["value"]
    sessions_before = len(page.sessions())

    refused_before = api.log_path.read_text().count('outcome="csrf_rejected"')

    # Another origin, in the same browser (so its requests carry the cookie: same site).
    driver = page.driver
    own_tab = driver.current_window_handle
    driver.switch_to.new_window("tab")
    driver.get(other_origin + "/")
    outcome = driver.execute_async_script(
        "(async () => {" + CROSS_ORIGIN_ATTEMPTS + "})()", api.base)
    # The CORS request needs a preflight the API does not grant: the browser refuses it.
    assert outcome["cors"] == "failed: TypeError", outcome
    # The simple request is sent, cookie and all (an opaque answer the page cannot read): the
    # API refuses it as a forgery (no Token-Delivery header, a foreign Origin).
    assert outcome["simple"] == "opaque", outcome
    assert api.log_path.read_text().count('outcome="csrf_rejected"') == refused_before + 1
    driver.close()
    driver.switch_to.window(own_tab)

    # No rotation: the cookie is the one from before, and it still works. With no grace
    # window, a rotation the page had not seen would make this refresh a reuse and end the
    # session.
    assert page.refresh_cookie()["value"] == before
    page.reload()
    page.wait_signed_in()
    assert len(page.sessions()) == sessions_before
    assert page.refresh_cookie()["value"] != before


def test_no_serious_accessibility_violations(api, browser, axe_source):
    page = browser(api).open()
    assert run_axe(page, axe_source) == []

    name = unique_name("axe")
    page.register(name)
    page.wait_signed_in()
    other = browser(api, user_agent=FIREFOX_ON_WINDOWS).open()
    other.sign_in(name)
    other.wait_signed_in()
    page.reload_list()
    assert len(page.sessions()) == 2
    assert run_axe(page, axe_source) == []

    # The form with an error showing.
    other.click("sign-out-here")
    other.wait_signed_out()
    other.sign_in(name, "not the password")
    other.wait_error()
    assert run_axe(other, axe_source) == []


def test_errors_are_shown_in_words(api, browser):
    page = browser(api)
    name = registered(page, "errors")
    page.click("sign-out-here")
    page.wait_signed_out()

    page.sign_in(name, "not the password")
    assert page.wait_error() == "Wrong username or password."
    assert page.by_id("error").get_attribute("role") == "alert"

    page.register(name)
    assert page.wait_error() == "That username is taken. Choose another one."

    page.register(unique_name("short"), "short")
    assert page.wait_error() == "Password must be 8 to 128 characters long."
    assert page.focused_id() == "register-password"
    assert page.by_id("register-password").get_attribute("aria-invalid") == "true"

    page.register("no spaces allowed")
    assert page.wait_error().startswith("Username may contain only")
    assert page.focused_id() == "register-username"

    # Failed sign-ins for one name: after five, the wait is given in seconds.
    message = ""
    for _ in range(6):
        page.sign_in(name, "still not the password")
        page.wait(lambda _: page.error() and page.error() != message, "the next error")
        message = page.error()
        if message.startswith("Too many attempts"):
            break
        page._clear_messages()
        message = ""
    # The lock is 15 s from the fifth failure; a second may have passed since.
    wait = re.fullmatch(r"Too many attempts\. Try again in (\d+) seconds?\.", message)
    assert wait and 1 <= int(wait.group(1)) <= 15, message


def test_an_unreachable_service_is_said_so(own_server, browser):
    server = own_server()
    page = browser(server)
    registered(page, "offline")
    server.stop()
    page.reload_list()
    assert page.error() == "Could not reach the service. Check your connection and try again."
    # Still showing what it had: nothing was signed out.
    assert page.by_id("signed-in").is_displayed()


AGENTS = [
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/148.0.0.0 Safari/537.36", "Chrome on Linux"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/148.0.0.0 Safari/537.36 Edg/148.0.0.0", "Edge on Windows"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/18.2 Safari/605.1.15", "Safari on macOS"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1", "Safari on iOS"),
    ("Mozilla/5.0 (iPad; CPU OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "CriOS/148.0.0.0 Mobile/15E148 Safari/604.1", "Chrome on iOS"),
    ("Mozilla/5.0 (Android 15; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0", "Firefox on Android"),
    ("Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/148.0.0.0 Mobile Safari/537.36", "Chrome on Android"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chromium/120.0.0.0 Chrome/120.0.0.0 Safari/537.36", "Chromium on Linux"),
    ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
     "Firefox on Linux"),
    ("curl/8.5.0", "curl"),
    ("python-requests/2.32.3", "Unknown device"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) SomethingElse/1.0", "Unknown browser on Windows"),
    ("", "Unknown device"),
]


def test_user_agents_and_times_are_read_as_people_say_them(memory_api, browser):
    page = browser(memory_api).open()
    labels = page.driver.execute_async_script(
        "const [agents, done] = [arguments[0], arguments[arguments.length - 1]];"
        "import('/account.js').then(m => done(agents.map(a => m.describeAgent(a).label)),"
        "                           e => done(String(e)));",
        [agent for agent, _ in AGENTS])
    assert labels == [label for _, label in AGENTS]

    now = 1_800_000_000_000
    cases = [(0, "now"), (-12, "12 seconds ago"), (-3 * 60 - 5, "3 minutes ago"),
             (-2 * 3600, "2 hours ago"), (-86400, "yesterday"), (-3 * 86400, "3 days ago"),
             (-14 * 86400, "2 weeks ago"), (-400 * 86400, "last year"), (90, "in 1 minute")]
    texts = page.driver.execute_async_script(
        "const [now, offsets, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];"
        "import('/account.js').then("
        "  m => done(offsets.map(s => m.relativeTime(now + s * 1000, now, 'en'))),"
        "  e => done(String(e)));",
        now, [offset for offset, _ in cases])
    assert texts == [text for _, text in cases]



def test_change_the_password_then_delete_the_account(api, browser):
    new_password = "a different passphrase entirely"
    first = browser(api)
    name = registered(first)
    second = browser(api, user_agent=FIREFOX_ON_WINDOWS).open()
    second.sign_in(name)
    second.wait_signed_in()

    # A wrong current password is said so, and changes nothing.
    first.change_password("not my password", new_password)
    assert first.error() == "Wrong password."
    assert first.focused_id() == "current-password"
    first.change_password(PASSWORD, "short")
    assert first.error().startswith("New password must be 8 to 128 characters")
    assert first.focused_id() == "new-password"

    # The change: this browser stays signed in, alone; the other is signed out.
    first.change_password(PASSWORD, new_password)
    assert first.notice() == "Your password is changed. Every other session was signed out."
    first.reload_list()
    assert [s["current"] for s in first.sessions()] == [True]
    second.reload_list()
    second.wait_signed_out()
    second.sign_in(name)
    assert second.wait_error() == "Wrong username or password."
    second.sign_in(name, new_password)
    second.wait_signed_in()

    # Deleting: the password again; then every session ends, here and there.
    first.delete_account(PASSWORD)
    assert first.error() == "Wrong password."
    assert first.signed_in()
    first.delete_account(new_password)
    first.wait_signed_out()
    assert first.notice() == "Your account is deleted, and every session of it has ended."
    assert first.refresh_cookie() is None
    first.reload()
    assert first.signed_out()
    second.reload_list()
    second.wait_signed_out()
    second.sign_in(name, new_password)
    assert second.wait_error() == "Wrong username or password."

    assert first.console_errors() == []
    assert second.console_errors() == []


def test_two_factor_sign_in(api, browser):
    first = browser(api)
    name = registered(first, "mfa")
    secret, uri = first.start_mfa()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    assert uri.startswith("otpauth://totp/") and f":{name}?" in uri and f"secret={secret}" in uri
    first.wait(lambda _: first.qr_drawn(), "the QR code")
    width, height = first.qr_drawn()
    assert width == height and width >= 100, (width, height)
    first.confirm_mfa(a_wrong_code(secret))
    assert first.error() == "That code is wrong or was already used."
    assert first.focused_id() == "mfa-confirm-code"
    first.confirm_mfa(totp(secret))
    assert first.notice() == "Two-factor sign-in is on. Save your recovery codes."
    codes = first.recovery_codes()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-7]{4}(-[a-z2-7]{4}){3}", c) for c in codes)

    # Another browser: the password, then a code; a wrong code is said so and can be retried.
    second = browser(api, user_agent=FIREFOX_ON_WINDOWS).open()
    second.sign_in(name)
    second.wait_wants_code()
    assert second.focused_id() == "second-step-code"
    second.second_step(a_wrong_code(secret))
    assert second.error() == "That code is wrong or was already used."
    assert second.wants_code()
    second.second_step(totp(secret, 1))
    second.wait_signed_in()
    listed = second.sessions()
    assert [(s["current"], s["mfa"]) for s in listed] == [(True, True), (False, False)]
    second.reload()
    assert second.signed_in(), "the refresh cookie keeps it signed in"

    # A recovery code, typed as people do; it works once.
    third = browser(api).open()
    third.sign_in(name)
    third.wait_wants_code()
    third.second_step(codes[0].upper().replace("-", " "))
    third.wait_signed_in()
    fourth = browser(api).open()
    fourth.sign_in(name)
    fourth.wait_wants_code()
    fourth.second_step(codes[0])
    assert fourth.error() == "That code is wrong or was already used."

    # Off, with the password and a recovery code; then the password alone signs in.
    first.mfa_off("not my password", codes[1])
    assert first.error() == "Wrong password."
    first.mfa_off(PASSWORD, codes[1])
    assert first.notice() == "Two-factor sign-in is off."
    fourth.open()
    fourth.sign_in(name)
    fourth.wait_signed_in()

    for page in (first, second, third, fourth):
        assert page.console_errors() == []
