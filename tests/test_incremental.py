"""Rebuilds that keep what did not change: a site that is up to date is not built again,
and a site where some problems changed renders only their pages, yet ends byte-identical
to a clean build of the same inputs (search index included)."""
from __future__ import annotations

import json
import shutil

import pytest

import tracer.site.build
import tracer.site.publish
from test_build import ROOT, copy_project, leftovers, tree
from tracer.site.build import build

pytestmark = pytest.mark.slow  # whole builds

PROBLEM = "02-sum-then-product"


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    """A site built once, with its own cache; tests copy it before changing it."""
    work = tmp_path_factory.mktemp("first")
    config = copy_project(work, pdf="false")   # the cache in .tracer-cache beside it
    report = build(config, say=lambda m: None)
    assert report.site == "all"
    return work


@pytest.fixture
def work(first, tmp_path):
    """A private copy of the built folder, its cache and record pointing at it."""
    copy = tmp_path / "work"
    shutil.copytree(first, copy, symlinks=True)
    from tracer.site import incremental

    for edition, output in (("student", "public"), ("instructor", "public-instructor")):
        state = copy / ".tracer-cache" / f"site-{edition}.json"
        data = json.loads(state.read_text())
        data["output"] = str(copy / output)
        # The copy's files have new time stamps: record them as its own.
        data["manifest"] = incremental._manifest(copy / output)
        state.write_text(json.dumps(data))
    return copy


def _forbidden(*args, **kwargs):
    raise AssertionError("MkDocs ran although nothing changed")


def test_an_unchanged_site_is_not_built_again(work, monkeypatch):
    before = tree(work / "public")
    monkeypatch.setattr(tracer.site.publish, "build_site", _forbidden)
    report = build(work / "mkdocs.yml", say=lambda m: None)
    assert report.site == "none"
    assert tree(work / "public") == before


def clean_build_of(work, tmp_path):
    """The same inputs built from nothing: a fresh folder, a fresh cache."""
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    shutil.copytree(work / "site", fresh / "site")
    shutil.copytree(work / "problems", fresh / "problems")
    shutil.copy(work / "mkdocs.yml", fresh / "mkdocs.yml")
    report = build(fresh / "mkdocs.yml", say=lambda m: None)
    assert report.site == "all"
    return both(fresh)


def assert_same(built, clean):
    """Both editions equal, naming the files that differ."""
    for mine, theirs in zip(built, clean):
        differ = sorted(n for n in set(mine) | set(theirs) if mine.get(n) != theirs.get(n))
        assert not differ, differ[:20]


def both(work):
    """Both editions' trees: the student's and the instructor's."""
    return tree(work / "public"), tree(work / "public-instructor")


def test_an_edited_problem_renders_only_its_pages_and_the_site_is_as_a_clean_build(
        work, tmp_path, monkeypatch):
    import mkdocs.commands.build as mkdocs_build

    rendered = []
    real = mkdocs_build._build_page

    def counting(page, *args, **kwargs):
        if page.file.is_modified():   # a dirty build renders these only
            rendered.append(page.file.src_uri)
        return real(page, *args, **kwargs)

    monkeypatch.setattr(mkdocs_build, "_build_page", counting)
    path = work / "problems" / f"{PROBLEM}.yaml"
    path.write_text(path.read_text().replace("x3: -5", "x3: -6"))
    keys = work / "public-instructor"     # the edition with the answer keys
    old = keys / "problems" / "03-two-paths" / "answers.html"
    old_inode = old.stat().st_ino
    report = build(work / "mkdocs.yml", say=lambda m: None)
    assert report.site == "some"
    # Not even the home page or the hand-written pages: nothing of theirs changed.
    assert set(rendered) == {f"problems/{PROBLEM}/worksheet.md", f"problems/{PROBLEM}/answers.md"}
    # The kept pages are the same files (linked), not copies.
    assert (keys / "problems" / "03-two-paths" / "answers.html").stat().st_ino == old_inode
    answers = (keys / f"problems/{PROBLEM}/answers.html").read_text()
    assert "-36" in answers or "−36" in answers
    monkeypatch.undo()
    assert_same(both(work), clean_build_of(work, tmp_path))
    assert [n for n in leftovers(work) if n != ".tracer-cache"] == []


def test_a_new_title_rebuilds_every_page(work, tmp_path):
    path = work / "problems" / f"{PROBLEM}.yaml"
    text = path.read_text()
    path.write_text(text.replace(text.split("\n")[0], "title: A sum, then a product"))
    report = build(work / "mkdocs.yml", say=lambda m: None)
    assert report.site == "all"
    assert_same(both(work), clean_build_of(work, tmp_path))


def test_an_output_changed_by_hand_is_built_again_in_full(work):
    before = tree(work / "public")
    (work / "public" / "problems" / PROBLEM / "answers.html").write_text("mine")
    (work / "public" / "404.html").unlink()
    report = build(work / "mkdocs.yml", say=lambda m: None)
    assert report.site == "all"
    assert tree(work / "public") == before


def test_a_dirty_build_that_fails_leaves_the_previous_site(work, monkeypatch):
    before = tree(work / "public")
    path = work / "problems" / f"{PROBLEM}.yaml"
    path.write_text(path.read_text().replace("x3: -5", "x3: -7"))
    real = tracer.site.publish.build_site

    def failing(site, pages, plan=None):
        staging = real(site, pages, plan)
        assert plan is not None and plan.kind == "some"
        # MkDocs wrote the changed pages beside the kept ones; then something fails.
        shutil.rmtree(staging)
        raise RuntimeError("interrupted")

    monkeypatch.setattr(tracer.site.publish, "build_site", failing)
    with pytest.raises(RuntimeError):
        build(work / "mkdocs.yml", say=lambda m: None)
    assert tree(work / "public") == before
    monkeypatch.undo()
    assert build(work / "mkdocs.yml", say=lambda m: None).site == "all"


@pytest.mark.parametrize("edit", [False, True])
def test_pages_rendered_by_several_processes_make_the_same_site(work, tmp_path, monkeypatch,
                                                               edit):
    import tracer.site.parallel as parallel

    if edit:   # a dirty build that also shares its pages out
        for name in ("01-chain-rule", "03-two-paths", "05-sigmoid-neuron"):
            path = work / "problems" / f"{name}.yaml"
            path.write_text(path.read_text() + "\nprecision: 5\n")
    else:
        for state in (work / ".tracer-cache").glob("site-*.json"):
            state.unlink()
    monkeypatch.setattr(parallel, "MIN_SHARE", 1)
    monkeypatch.setattr(parallel, "_cores", lambda: 3)
    forks = []
    real = parallel._start
    monkeypatch.setattr(parallel, "_start", lambda *a: forks.append(a[3]) or real(*a))
    report = build(work / "mkdocs.yml", say=lambda m: None)
    assert report.site == ("some" if edit else "all")
    assert len(forks) == 2 * 2             # two children for each edition
    assert not any(folder.exists() for folder in forks)
    monkeypatch.undo()
    assert_same(both(work), clean_build_of(work, tmp_path))


def test_a_page_listed_without_a_title_is_rendered_again(work, tmp_path, monkeypatch):
    import mkdocs.commands.build as mkdocs_build

    (work / "site" / "extra.md").write_text("# An extra page\n\nIts title comes from here.\n")
    config = work / "mkdocs.yml"
    config.write_text(config.read_text().replace("  - Problems: problems/",
                                                 "  - extra.md\n  - Problems: problems/"))
    assert build(config, say=lambda m: None).site == "all"
    rendered = []
    real = mkdocs_build._build_page
    monkeypatch.setattr(mkdocs_build, "_build_page", lambda page, *a, **k: (
        rendered.append(page.file.src_uri) if page.file.is_modified() else None,
        real(page, *a, **k))[1])
    path = work / "problems" / f"{PROBLEM}.yaml"
    path.write_text(path.read_text().replace("x3: -5", "x3: -6"))
    assert build(config, say=lambda m: None).site == "some"
    assert "extra.md" in rendered and "authoring.md" not in rendered
    monkeypatch.undo()
    assert_same(both(work), clean_build_of(work, tmp_path))
