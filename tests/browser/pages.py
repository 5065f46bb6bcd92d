"""The account page as the browser tests drive it: what a person does (type, click, reload) and
what they see (the view, the messages, the session list), through Selenium. Every wait has a
time limit (WAIT seconds)."""

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 20
PASSWORD = "correct horse battery staple"
# Network-level lines Chromium logs for every non-2xx answer; the API's refusals (401 before
# signing in, 403 for an ended session) are expected, so only other lines count as errors.
_EXPECTED_STATUS_LINE = "Failed to load resource: the server responded with a status of"
_API_PATHS = ("/refresh", "/login", "/register", "/me", "/sessions", "/logout", "/password",
              "/mfa/totp")


class AccountPage:
    def __init__(self, driver, base):
        self.driver = driver
        self.base = base

    # ---- Navigation ----

    def open(self):
        self.driver.get(self.base + "/")
        self.wait_until_ready()
        return self

    def reload(self):
        self.driver.refresh()
        self.wait_until_ready()

    def wait_until_ready(self):
        """Until the load-time refresh has decided between the two views."""
        self.wait(lambda _: self.signed_in() or self.signed_out(), "a view")

    def wait(self, condition, what):
        def checked(driver):
            try:
                return condition(driver)
            except StaleElementReferenceException:
                return False

        return WebDriverWait(self.driver, WAIT).until(checked, f"waiting for {what}")

    def by_id(self, element_id):
        return self.driver.find_element(By.ID, element_id)

    # ---- What a person does ----

    def register(self, username, password=PASSWORD):
        self._fill("register-username", username)
        self._fill("register-password", password)
        self.driver.find_element(By.CSS_SELECTOR, "#register-form button[type=submit]").click()

    def change_password(self, current, new):
        """Fills and sends "Change your password"; waits for its answer (a notice or an error)."""
        self._clear_messages()
        self._fill("current-password", current)
        self._fill("new-password", new)
        self.driver.find_element(By.CSS_SELECTOR, "#password-form button[type=submit]").click()
        self.wait(lambda _: self.notice() or self.error(), "the change's answer")

    def delete_account(self, password):
        """Fills and sends "Delete your account"; waits for its answer (the signed-out view or
        an error)."""
        self._clear_messages()
        self._fill("delete-password", password)
        self.driver.find_element(By.CSS_SELECTOR, "#delete-form button[type=submit]").click()
        self.wait(lambda _: self.signed_out() or self.error(), "the deletion's answer")

    def sign_in(self, username, password=PASSWORD):
        self._fill("sign-in-username", username)
        self._fill("sign-in-password", password)
        self.driver.find_element(By.CSS_SELECTOR, "#sign-in-form button[type=submit]").click()

    def second_step(self, code):
        """Sends the sign-in's second step with `code`; waits for its answer (the sessions
        view, the password step again, or an error)."""
        self._clear_messages()
        self._fill("second-step-code", code)
        self.driver.find_element(By.CSS_SELECTOR, "#second-step-form button[type=submit]").click()
        self.wait(lambda _: self.signed_in() or self.error(), "the second step's answer")

    def wants_code(self):
        return self.by_id("second-step-form").is_displayed()

    def wait_wants_code(self):
        self.wait(lambda _: self.wants_code() or self.error(), "the code step")
        assert self.wants_code(), f"no code step; error: {self.error()!r}"

    def start_mfa(self):
        """Clicks "Turn on two-factor sign-in": the key shown (without its spaces) and the
        link's otpauth URI."""
        self._clear_messages()
        self.click("mfa-start")
        self.wait(lambda _: self.by_id("mfa-enrol").is_displayed() or self.error(), "the key")
        return (self.by_id("mfa-secret").text.replace(" ", ""),
                self.by_id("mfa-uri").get_attribute("href"))

    def qr_drawn(self):
        """Whether the QR code image loaded (CSP allowed it and it decoded): its natural size."""
        return self.driver.execute_script(
            "const i = document.getElementById('mfa-qr');"
            "return i.complete ? [i.naturalWidth, i.naturalHeight] : null;")

    def confirm_mfa(self, code):
        self._clear_messages()
        self._fill("mfa-confirm-code", code)
        self.driver.find_element(By.CSS_SELECTOR, "#mfa-confirm-form button[type=submit]").click()
        self.wait(lambda _: self.notice() or self.error(), "the confirmation's answer")

    def recovery_codes(self):
        return [li.text for li in self.driver.find_elements(By.CSS_SELECTOR, "#mfa-recovery-codes li")]

    def mfa_off(self, password, code):
        self._clear_messages()
        self._fill("mfa-off-password", password)
        self._fill("mfa-off-code", code)
        self.driver.find_element(By.CSS_SELECTOR, "#mfa-off-form button[type=submit]").click()
        self.wait(lambda _: self.notice() or self.error(), "the answer")

    def _fill(self, element_id, text):
        field = self.by_id(element_id)
        field.clear()
        field.send_keys(text)

    def click(self, element_id):
        self.by_id(element_id).click()

    def reload_list(self):
        """Clicks "Refresh list"; waits until the answer shows (a notice, an error or the
        signed-out view)."""
        self._clear_messages()
        self.click("reload-sessions")
        self.wait(lambda _: self.notice() or self.error() or self.signed_out(), "the list's answer")

    def _clear_messages(self):
        self.driver.execute_script(
            "document.getElementById('notice').textContent = '';"
            "document.getElementById('error').textContent = '';")

    def sign_out_session(self, label):
        """Clicks "Sign out" on the other session shown as `label`."""
        before = len(self.sessions())
        self._clear_messages()
        self.button_for(label).click()
        self.wait(lambda _: self.notice() or self.error(), "the sign-out's answer")
        self.wait(lambda _: len(self.sessions()) != before or self.error(), "the list to change")

    def button_for(self, label):
        for item in self.driver.find_elements(By.CSS_SELECTOR, "#sessions li"):
            if item.find_element(By.TAG_NAME, "h3").text.startswith(label):
                return item.find_element(By.TAG_NAME, "button")
        raise AssertionError(f"no session {label}: {self.sessions()}")

    # ---- What a person sees ----

    def signed_in(self):
        return self.by_id("signed-in").is_displayed() and bool(self.sessions())

    def signed_out(self):
        return self.by_id("signed-out").is_displayed()

    def wait_signed_in(self):
        self.wait(lambda _: self.signed_in() or self.error(), "the sessions view")
        assert self.signed_in(), f"not signed in; error: {self.error()!r}"

    def wait_signed_out(self):
        self.wait(lambda _: self.signed_out(), "the signed-out view")

    def wait_error(self):
        self.wait(lambda _: self.error(), "an error message")
        return self.error()

    def error(self):
        return self.by_id("error").text

    def notice(self):
        return self.by_id("notice").text

    def username(self):
        return self.by_id("username").text

    def sessions(self):
        """The sessions listed: label, whether current, IP address, and the sign-out button's
        accessible name (None for the current session, which has none)."""
        listed = []
        for item in self.driver.find_elements(By.CSS_SELECTOR, "#sessions li[data-session-id]"):
            title = item.find_element(By.TAG_NAME, "h3").text
            current = "this device" in title
            mfa = "two-factor" in title
            buttons = item.find_elements(By.TAG_NAME, "button")
            facts = [dd.text for dd in item.find_elements(By.TAG_NAME, "dd")]
            times = item.find_elements(By.TAG_NAME, "time")
            listed.append({
                "label": title.replace("this device", "").replace("two-factor", "").strip(),
                "current": current,
                "mfa": mfa,
                "ip": facts[0] if facts else None,
                "times": [(t.get_attribute("datetime"), t.text) for t in times],
                "button": buttons[0].accessible_name if buttons else None,
            })
        return listed

    def focused_id(self):
        return self.driver.execute_script("return document.activeElement && document.activeElement.id")

    def script_visible_cookies(self):
        return self.driver.execute_script("return document.cookie")

    def web_storage(self):
        return self.driver.execute_script(
            "return {local: localStorage.length, session: sessionStorage.length}")

    def all_cookies(self):
        """Every cookie of the browser, HttpOnly ones included (DevTools' view)."""
        return self.driver.execute_cdp_cmd("Storage.getCookies", {})["cookies"]

    def refresh_cookie(self):
        found = [c for c in self.all_cookies() if "refresh" in c["name"]]
        assert len(found) <= 1, found
        return found[0] if found else None

    def console_errors(self):
        """Console lines that show a fault: script errors, CSP violations, failed loads of the
        page's own files. Expected refusals of API calls are left out."""
        errors = []
        for entry in self.driver.get_log("browser"):
            message = entry.get("message", "")
            if entry.get("level") not in ("SEVERE", "WARNING"):
                continue
            if _EXPECTED_STATUS_LINE in message and any(
                    f"{self.base}{path}" in message for path in _API_PATHS):
                continue
            errors.append(message)
        return errors
