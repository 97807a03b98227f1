"""NIR from Python: a trained run exported by spikeforge is read by the ``nir`` package, and the
graph that package writes back imports into the same network (skipped without ``nir``)."""

import numpy as np
import pytest

import spikeforge

nir = pytest.importorskip("nir")


def test_exported_graph_reads_in_nir_and_its_rewrite_imports_back(
    nmnist_folder, cache_root, tmp_path
):
    run = tmp_path / "run"
    spikeforge.train(model="seed-snn", width=2, epochs=1, batch=4, out=run, dataset="nmnist",
                     root=nmnist_folder, cache=cache_root, size=34)
    ours = tmp_path / "ours.nir"
    spikeforge.export_nir(run, ours)

    graph = nir.read(ours)
    kinds = sorted({type(node).__name__ for node in graph.nodes.values()})
    assert kinds == ["Affine", "Conv2d", "Flatten", "IF", "Input", "Output"]
    conv = next(n for n in graph.nodes.values() if isinstance(n, nir.Conv2d))
    assert conv.weight.shape == (2, 2, 3, 3)
    neuron = next(n for n in graph.nodes.values() if isinstance(n, nir.IF))
    assert neuron.v_threshold.shape == (2, 34, 34)
    np.testing.assert_array_equal(neuron.v_threshold, 1.0)
    affine = next(n for n in graph.nodes.values() if isinstance(n, nir.Affine))
    assert affine.weight.shape == (3, 2 * 34 * 34)

    theirs = tmp_path / "theirs.nir"
    nir.write(theirs, graph)
    spikeforge.import_nir(theirs, tmp_path / "imported")
    again = tmp_path / "again.nir"
    spikeforge.export_nir(tmp_path / "imported", again)
    assert again.read_bytes() == ours.read_bytes()
