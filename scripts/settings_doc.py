#!/usr/bin/env python3
"""Print the configuration as .env.example lines (default) or as a Markdown table (--markdown)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worker.settings import Settings  # noqa: E402


def default_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Path):
        return str(value) if value.is_absolute() else f"./{value}"  # folders of the working directory
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def main() -> None:
    markdown = "--markdown" in sys.argv
    if markdown:
        print("| variable | default | meaning |\n|---|---|---|")
    else:
        print("# cardiosynth settings: copy to .env and change what you need. Every line shows the default.")
    for name, field in Settings.model_fields.items():
        default = default_text(field.get_default(call_default_factory=True))
        if markdown:
            print(f"| `{name.upper()}` | `{default}` | {field.description} |")
        else:
            print(f"# {field.description}\n{'# ' if not default else ''}{name.upper()}={default}")


if __name__ == "__main__":
    main()
