"""Notices: what Conveyor tells a person, as a stable code (the tag) with typed parameters (the fields) and
`message`, the English text a client that does not know the code shows."""

from __future__ import annotations

import msgspec

#: Items a list in a message names before "…".
SHOWN = 5


def listed(items: list[str], total: int) -> str:
    """`items` joined by ", ", with ", …" when `total` says there were more."""
    return ", ".join(items) + (", …" if total > len(items) else "")


class Notice(msgspec.Struct, kw_only=True, tag_field="code"):
    """A notice: its code (the tag), its parameters (the fields), and `message`, its English text."""

    message: str = ""

    def __post_init__(self) -> None:
        self.message = self.text()

    def text(self) -> str:
        raise NotImplementedError


class Other(Notice, tag="other"):
    """A warning no code describes yet: only its text."""

    def text(self) -> str:
        return self.message


class Noted(str):
    """A warning's English text that carries its notice, so lists of warnings stay lists of text."""

    notice: Notice

    def __new__(cls, notice: Notice) -> Noted:
        made = super().__new__(cls, notice.message)
        made.notice = notice
        return made

    def __reduce__(self) -> tuple[type[Noted], tuple[Notice]]:
        """Pickled with its notice (a pipeline run's log lines cross a pipe from its process)."""
        return Noted, (self.notice,)


def note(notice: Notice) -> str:
    """The notice as the text a warnings list holds (its notice attached)."""
    return Noted(notice)


def notice_of(text: str) -> Notice:
    """The notice behind a warning's text; a text built without one is `other`."""
    return text.notice if isinstance(text, Noted) else Other(message=str(text))
