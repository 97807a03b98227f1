"""Training, evaluation and prediction from Python: the command line's commands in-process."""

import numpy as np
import pytest

import spikeforge
from spikeforge.datasets import NMNIST


def test_train_evaluate_and_predict_agree(nmnist_folder, cache_root, tmp_path):
    out = tmp_path / "run"
    options = dict(dataset="nmnist", root=nmnist_folder, cache=cache_root, size=34)
    record = spikeforge.train(model="seed-snn", epochs=2, batch=4, out=out, **options)
    assert record["run_dir"] == str(out)
    assert [e["epoch"] for e in record["epochs"]] == [1, 2]
    best = record["epochs"][record["best_epoch"] - 1]["test"]

    run = spikeforge.load_run(out)
    assert run.classes == 3 and run.record["best_epoch"] == record["best_epoch"]
    test = NMNIST(nmnist_folder, train=False, size=34, cache=cache_root)
    frames = np.stack([test[i][0] for i in range(len(test))])
    scores = run.predict(frames)
    assert scores.shape == (len(test), 3) and scores.dtype == np.float32
    # Alone or in a batch: the same scores up to the kernels' summation order.
    np.testing.assert_allclose(run.predict(frames[2]), scores[2], rtol=1e-5, atol=1e-7)
    accuracy = float(np.mean(scores.argmax(axis=1) == np.array(test.targets)))
    assert accuracy == pytest.approx(best["accuracy"])

    evaluation = run.evaluate(repeats=1, sparse=True)
    assert evaluation["dense"]["accuracy"] == pytest.approx(accuracy)
    assert evaluation["sparse"] is not None


def test_unknown_options_and_bad_values_are_errors(tmp_path):
    with pytest.raises(ValueError, match="--no-such-option"):
        spikeforge.train(no_such_option=1)
    with pytest.raises(ValueError, match="--epochs"):
        spikeforge.train(epochs="many")
    with pytest.raises(RuntimeError, match="not a run folder"):
        spikeforge.load_run(tmp_path)


def test_commands_document_their_options():
    assert "--train-samples" in spikeforge.train.__doc__
    assert "--sparse" in spikeforge.evaluate.__doc__
