"""The bot's cache of main's records (pgolf.bot.cache, pgolf.bot.codec) on a challenge repository the tests
build with real git: a cached record judges exactly as a freshly read one, and a stale, corrupt or foreign
cache is ignored with a warning."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from decimal import Decimal

import pytest

from pgolf.bot import codec
from pgolf.bot.cache import RecordCache, cache_file, default_dir
from pgolf.bot.judge import judge_pr
from pgolf.review.judge.progression import ProgressionSettings
from pgolf.review.judge.record import load_record
from pgolf.review.judge.stream import judge_stream
from pgolf.review.model import Flag
from pgolf.review.sources.git import stream
from tests.data import gitstream as gs

PRS = range(1, 11)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return gs.build_stream(tmp_path_factory.mktemp("stream"))


def _same(judged) -> tuple[str, dict[str, str]]:
    review = judged.review.as_dict()
    review.pop("seconds")
    return json.dumps(review, sort_keys=True, default=str), judged.pages


def _base(repo) -> str:
    return subprocess.run(["git", "-C", str(repo), "rev-parse", "main"], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_a_record_comes_back_the_same_typed_value(repo):
    rec = load_record(repo / gs.TRACK / "2026-03-25_Good")
    rec.flags.append(Flag("x.y", "warn", "", "numbers", numbers=(("d", Decimal("1.20")), ("t", (1, "a")))))
    back = codec.decode(json.loads(json.dumps(codec.encode(rec))))
    assert back.files is None
    rec.files = None
    assert back == rec
    assert dict(back.flags[-1].numbers) == {"d": Decimal("1.20"), "t": (1, "a")}
    # the counted runs are runs of the record (code matches them by identity), not copies
    assert back.counted and all(any(c is r for r in back.runs) for c in back.counted)


def test_the_codec_stores_and_builds_only_the_reviewers_types():
    with pytest.raises(codec.CodecError):
        codec.encode(object())
    with pytest.raises(codec.CodecError):
        codec.decode({"$dc": "Popen", "f": {"args": ["sh"]}})
    with pytest.raises(codec.CodecError):
        codec.decode({"$eval": "1"})
    assert codec.decode(codec.encode({"$x": 1, 2: [3.5]})) == {"$x": 1, 2: [3.5]}
    nan, inf = codec.decode(json.loads(json.dumps(codec.encode([math.nan, -math.inf]), allow_nan=False)))
    assert math.isnan(nan) and inf == -math.inf


def test_every_pr_judges_the_same_cold_warm_and_without_cache(repo, tmp_path):
    for pr in PRS:
        plain = judge_pr(repo, pr)
        cold = judge_pr(repo, pr, cache=tmp_path / "c") if pr == 1 else None
        warm = judge_pr(repo, pr, cache=tmp_path / "c")
        assert warm.warnings == ()
        assert _same(warm) == _same(plain), pr
        if cold is not None:
            assert _same(cold) == _same(plain)
    assert cache_file(tmp_path / "c", _base(repo), "track_10min_16mb").exists()


def test_a_warm_run_reads_main_from_the_cache(repo, tmp_path):
    def run():
        with stream(repo, refs="refs/pull/9/head", main="main") as src:
            kept = RecordCache(tmp_path, src.main, "track_10min_16mb")
            j = judge_stream(src, ProgressionSettings(), load=kept.loader(src, "refs/pull/9/head"))
            on_main = sum(s.ref == "main" for s in j.submissions)
        kept.save()
        return kept, on_main

    first, on_main = run()
    assert on_main and len(first.fresh) == on_main and not first.used
    second, _ = run()
    assert len(second.used) == on_main and not second.fresh and second.warnings == []


@pytest.mark.parametrize("damage", ["{not json", '{"records": []}', "stale"])
def test_a_corrupt_or_stale_cache_is_ignored_with_a_warning_and_rewritten(repo, tmp_path, damage):
    judge_pr(repo, 9, cache=tmp_path)
    path = cache_file(tmp_path, _base(repo), "track_10min_16mb")
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "pgolf_source": "0" * 64}) if damage == "stale" else damage)
    again = judge_pr(repo, 9, cache=tmp_path)
    assert len(again.warnings) == 1 and "ignored" in again.warnings[0]
    assert _same(again) == _same(judge_pr(repo, 9))
    assert judge_pr(repo, 9, cache=tmp_path).warnings == ()  # rewritten whole


def test_a_damaged_record_is_read_again(repo, tmp_path):
    judge_pr(repo, 9, cache=tmp_path)
    path = cache_file(tmp_path, _base(repo), "track_10min_16mb")
    data = json.loads(path.read_text())
    key = next(iter(data["records"]))
    data["records"][key] = {"$dc": "RecordCheck", "f": {}}
    path.write_text(json.dumps(data))
    again = judge_pr(repo, 9, cache=tmp_path)
    assert len(again.warnings) == 1 and key.split()[-1] in again.warnings[0]
    assert _same(again) == _same(judge_pr(repo, 9))


def test_a_new_base_starts_from_an_earlier_bases_records(repo, tmp_path):
    older = subprocess.run(["git", "-C", str(repo), "rev-parse", "main~1"], capture_output=True, text=True,
                           check=True).stdout.strip()
    judge_pr(repo, 9, base=older, cache=tmp_path)
    with stream(repo, refs="refs/pull/9/head", main="main") as src:
        kept = RecordCache(tmp_path, src.main, "track_10min_16mb")
        judge_stream(src, ProgressionSettings(), load=kept.loader(src, "refs/pull/9/head"))
    kept.save()
    assert kept.used and not kept.warnings and cache_file(tmp_path, _base(repo), "track_10min_16mb").exists()


def test_the_verb_caches_by_default_and_not_with_no_cache(repo, tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    base = [sys.executable, "-m", "pgolf", "review-pr", "--git", str(repo), "--pr", "9", "--format", "json"]
    done = subprocess.run([*base, "--out", str(tmp_path / "a"), "--no-cache"], capture_output=True, text=True,
                          env=env)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "xdg").exists()
    done = subprocess.run([*base, "--out", str(tmp_path / "b")], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert cache_file(tmp_path / "xdg" / "pgolf", _base(repo), "track_10min_16mb").exists()


def test_the_default_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_dir(tmp_path / "out") == tmp_path / "xdg" / "pgolf"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_dir(tmp_path / "out") == tmp_path / ".pgolf-cache"
