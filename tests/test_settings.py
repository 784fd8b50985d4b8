"""`.env.example` documents every setting, exactly as scripts/settings_doc.py prints it."""

from __future__ import annotations

import subprocess
import sys

from worker.settings import Settings
from tests.harness import ROOT


def test_env_example_is_current():
    printed = subprocess.run([sys.executable, "scripts/settings_doc.py"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
    assert (ROOT / ".env.example").read_text() == printed, "run: .venv/bin/python scripts/settings_doc.py > .env.example"
    for name, field in Settings.model_fields.items():
        assert f"{name.upper()}=" in printed
        assert field.description, name


def test_configuration_page_carries_the_generated_table():
    printed = subprocess.run([sys.executable, "scripts/settings_doc.py", "--markdown"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    assert printed.strip() in (ROOT / "docs" / "configuration.md").read_text(), (
        "paste the output of: .venv/bin/python scripts/settings_doc.py --markdown into docs/configuration.md"
    )
