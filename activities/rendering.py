"""Mail templates: Jinja2 renders a subject, a plain-text body and an HTML body for each milestone."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "email_templates"


@dataclass(frozen=True)
class RenderedMail:
    """A mail's text parts, ready to be put in a message."""

    subject: str
    text: str
    html: str


class MailRenderer:
    """Renders `<name>.subject.txt`, `<name>.txt` and `<name>.html` from the template folder."""

    def __init__(self, folder: Path = TEMPLATE_DIR) -> None:
        self._env = Environment(
            loader=FileSystemLoader(folder),
            undefined=StrictUndefined,
            autoescape=select_autoescape(["html"]),
            keep_trailing_newline=True,
        )

    def render(self, template: str, context: dict[str, str]) -> RenderedMail:
        """All three parts of one template; a missing variable is an error, never a blank."""
        subject = self._env.get_template(f"{template}.subject.txt").render(context).strip()
        return RenderedMail(
            " ".join(subject.split()),
            self._env.get_template(f"{template}.txt").render(context),
            self._env.get_template(f"{template}.html").render(context),
        )
