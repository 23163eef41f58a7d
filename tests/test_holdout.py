import pytest

from training.holdout import held_out_fraction, is_held_out


def test_split_is_stable_and_close_to_the_share():
    keys = [f"item-{i}" for i in range(2000)]
    first = [is_held_out(3, key, 0.2) for key in keys]
    assert first == [is_held_out(3, key, 0.2) for key in keys]
    assert 0.17 < sum(first) / len(keys) < 0.23


def test_split_depends_on_the_project():
    keys = [f"item-{i}" for i in range(200)]
    assert [is_held_out(1, k, 0.5) for k in keys] != [is_held_out(2, k, 0.5) for k in keys]
    assert all(0.0 <= held_out_fraction(1, k) < 1.0 for k in keys)


def test_bad_share_is_refused():
    with pytest.raises(ValueError, match="share"):
        is_held_out(1, "x", 1.0)
