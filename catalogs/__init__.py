"""Catalog files shipped with ContestFlow, and reading one from disk or text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from domain.catalog import Catalog, CatalogError, parse_catalog

CATALOG_DIR = Path(__file__).parent


def bundled_catalogs() -> dict[str, Path]:
    """Catalog files that ship with ContestFlow, by file stem (e.g. 'liaoning-2025')."""
    return {p.stem: p for p in sorted(CATALOG_DIR.glob("*.yaml"))}


def parse_catalog_text(text: str) -> Catalog:
    """A Catalog from YAML (or JSON, which is YAML) text."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogError(f"catalog is not valid YAML: {exc}") from exc
    return parse_catalog(data)


def load_catalog(path: Path) -> Catalog:
    """A Catalog from a file."""
    return parse_catalog_text(path.read_text(encoding="utf-8"))
