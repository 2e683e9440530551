"""The site's settings: mkdocs.yml, validated by MkDocs, and the tracer plugin's options."""
from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional, Union

from ..core.errors import Diagnostic, TracerError
from ..exporters.base import Course

__all__ = ["Site", "read_config", "site_settings", "mkdocs_messages", "EDITION_VARIABLE"]

#: The environment variable that names the edition a plain MkDocs run of the plugin makes
#: (``tracer serve`` sets it: a lecturer previews the keys too).
EDITION_VARIABLE = "TRACER_EDITION"


@dataclass(frozen=True)
class Site:
    """What a build needs to know, read from mkdocs.yml and the tracer plugin's options."""

    config_file: Path
    problems: Path            # the folder of problem files
    output: Path              # MkDocs' site_dir
    cache_dir: Optional[Path]
    pdf: Union[str, bool]     # "auto", True or False
    allow_html: bool
    mkdocs: Any = field(default=None, compare=False, repr=False)   # the MkDocsConfig
    plugin: Any = field(default=None, compare=False, repr=False)   # the TracerPlugin
    course: Course = Course()     # course, term and author, shown on pages and PDFs
    # The classroom (tracer.site.editions): the course salt variants are drawn with, the
    # instructor edition's folder, whether every key is released to the student edition.
    salt: str = ""
    instructor_output: Optional[Path] = None
    release_keys: bool = False



def read_config(config_file: Path, *, strict: bool = True) -> Site:
    """Load mkdocs.yml (validated by MkDocs) and the tracer plugin's options."""
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, ConfigurationError

    config_file = Path(config_file)
    if not config_file.is_file():
        raise TracerError([Diagnostic(str(config_file), "no such file: run tracer build in the "
                                      "folder that holds mkdocs.yml, or give its path with -f")])
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    with mkdocs_messages() as messages:
        try:
            config = load_config(config_file=str(config_file), strict=strict)
        except (ConfigurationError, Abort) as exc:
            raise TracerError([Diagnostic(str(config_file), f"the configuration is invalid: {m}")
                               for m in (messages or [str(exc)])]) from None
    plugin = config.plugins.get("tracer")
    if plugin is None:
        raise TracerError([Diagnostic(str(config_file), "the tracer plugin is not enabled: add "
                                      "'- tracer' under 'plugins:'")])
    return site_settings(config, plugin)


def site_settings(config: Any, plugin: Any) -> Site:
    """The :class:`Site` of a loaded MkDocs configuration (paths relative to mkdocs.yml)."""
    root = Path(config.config_file_path or ".").resolve().parent
    options = plugin.config
    cache = options.cache_dir
    return Site(config_file=Path(config.config_file_path or "mkdocs.yml"),
                problems=root / options.problems, output=Path(config.site_dir).resolve(),
                cache_dir=(root / cache) if cache else None, pdf=options.pdf,
                allow_html=bool(options.allow_html), mkdocs=config, plugin=plugin,
                course=Course(options.course, options.term, options.author),
                salt=options.salt, instructor_output=(root / options.instructor_dir).resolve(),
                release_keys=bool(options.release_keys))



@contextlib.contextmanager
def mkdocs_messages() -> Iterator[list[str]]:
    """Collect MkDocs' warnings and errors, to report them as tracer's own errors."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = Collect(logging.WARNING)
    logger = logging.getLogger("mkdocs")
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)

