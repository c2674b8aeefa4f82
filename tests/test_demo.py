"""The headless main job: the date task trained to >= 99% held-out exact match."""

import pytest

from s2s_helpers import cli, demo


@pytest.mark.slow
def test_demo_reaches_99_percent_and_saves_a_heatmap(tmp_path, capsys):
    score = demo.run(tmp_path, quick=False)
    out = capsys.readouterr().out
    assert score >= 0.99
    assert "Held-out exact match on 1000 unseen dates" in out
    assert "'samedi 12 avril 2098' -> '2098-04-12'" in out
    assert (tmp_path / "attention.png").stat().st_size > 10_000


def test_cli_help_and_unknown_command(capsys):
    assert cli.main(["--help"]) == 0
    assert "s2s-course demo" in capsys.readouterr().out
    assert cli.main(["frobnicate"]) == 2
