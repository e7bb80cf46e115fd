"""What a person does and sees on an admin page, in a few words each (Playwright pages)."""

from __future__ import annotations


def click_and_wait(page, locator) -> None:
    """Click something that loads a new page (a link, a form's button) and wait for it."""
    with page.expect_navigation():
        locator.click()


def messages(page) -> list[str]:
    """The admin's message bar (success, warning and error messages), as the user reads it."""
    return [text.strip() for text in page.locator(".messagelist li").all_inner_texts()]


def field_text(page, name: str) -> str:
    """The value shown for a read-only field on a change page (alone on its row, or beside
    others on a row of several fields)."""
    own = f".fieldBox.field-{name} > .readonly, .form-row.field-{name} > div > .flex-container > .readonly"
    return page.locator(own).first.text_content().strip()


def transition_buttons(page) -> list[str]:
    """The labels of the transition buttons offered on a change page."""
    return [text.strip() for text in page.locator("button[name=_fsm_transition_to]").all_inner_texts()]


def read_in(page, language: str) -> None:
    """Switch the admin's language as a person would: the header's 中文 / English button (the
    choice is remembered for the session). `language` is "en" or "zh-hans"."""
    name = {"en": "English", "zh-hans": "中文"}[language]
    button = page.locator("#language-switch").get_by_role("button", name=name)
    if button.count():  # already in that language otherwise
        click_and_wait(page, button)
    assert page.locator("html").get_attribute("lang") == language
