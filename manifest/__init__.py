"""Teams app manifest, icons and packaging (``golive manifest build --out DIR``)."""

from manifest.app_manifest import (
    MANIFEST_SCHEMA_URL,
    MANIFEST_VERSION,
    PLACEHOLDER_APP_ID,
    PLACEHOLDER_PUBLIC_URL,
    RSC_CHANNEL_MESSAGES,
    ManifestCommand,
    ManifestConfig,
    ManifestConfigError,
    build_manifest,
)
from manifest.icons import color_icon, outline_icon
from manifest.package import build_package, package_files, package_name

__all__ = [
    "MANIFEST_SCHEMA_URL",
    "MANIFEST_VERSION",
    "PLACEHOLDER_APP_ID",
    "PLACEHOLDER_PUBLIC_URL",
    "RSC_CHANNEL_MESSAGES",
    "ManifestCommand",
    "ManifestConfig",
    "ManifestConfigError",
    "build_manifest",
    "build_package",
    "color_icon",
    "outline_icon",
    "package_files",
    "package_name",
]
