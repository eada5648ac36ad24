"""The studio: one call, one run, every widget that fits the model's capabilities, as tabs."""

from __future__ import annotations

import ipywidgets
import pytest
from PIL import Image

import genwidgets as gw
from genwidgets.widgets import DiscriminatorHeatmap, LatentExplorer, TrainingPanel

pytestmark = pytest.mark.usefixtures("recording")

TINY = {"preset": "tiny", "steps": 20, "checkpoint_every": None, "sample_every": 10}


def test_a_gan_gets_panel_explorer_and_heatmap_on_one_run(tmp_path):
    studio = gw.studio("dcgan", data="mnist", **TINY)
    studio.run.wait()
    assert studio.widget.titles == ("Training", "Latent space", "Discriminator")
    assert isinstance(studio.widget, ipywidgets.Tab)
    assert isinstance(studio.panel, TrainingPanel) and isinstance(studio.explorer, LatentExplorer)
    assert isinstance(studio.heatmap, DiscriminatorHeatmap)
    assert studio.panel.run is studio.run and studio.explorer.session.view.run is studio.run
    assert studio.wait_idle()
    paths = studio.save_figures(tmp_path)
    assert sorted(p.name for p in paths.values()) == ["discriminator.png", "latent_space.png", "training.png"]
    assert all(Image.open(p).width > 300 for p in paths.values())
    data, _ = studio._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data and "image/png" in data
    studio.close()


def test_capabilities_choose_the_tabs_and_data_defaults_follow_the_family():
    vae = gw.studio("vae", **TINY)
    assert vae.widget.titles == ("Training", "Latent space") and vae.heatmap is None
    assert vae.run.data_source["name"] == "mnist"
    gan = gw.studio("gan", **{**TINY, "preset": "toy2d"})
    assert gan.run.data_source["name"] == "mnist"  # the MLP GAN takes images too
    gan.run.wait()
    points = gw.studio(gw.train("gan", data="ring", **TINY), explorer=False)
    assert points.widget.titles == ("Training", "Discriminator")
    for s in (vae, gan, points):
        s.run.wait()
        s.close()


def test_a_widget_that_fails_to_open_shows_its_error_as_text_and_the_rest_work():
    studio = gw.studio("vae", explorer_options={"n": 0}, **TINY)
    studio.run.wait()
    assert studio.explorer is None
    assert studio.widget.titles == ("Training", "Latent space")
    label = studio.widget.children[1]
    assert isinstance(label, ipywidgets.Label)  # text, never HTML
    assert "Latent space could not open: ConfigError: the map needs at least one point" in label.value
    assert studio.panel.wait_idle() and studio.panel.state == "finished"
    studio.close()


def test_studio_of_a_run_takes_no_training_options():
    run = gw.train("vae", data="mnist", **TINY)
    with pytest.raises(TypeError, match="watches an existing run"):
        gw.studio(run, data="mnist")
    model = gw.build_model("vae", gw.load_data("mnist").spec, preset="tiny")
    with pytest.raises(TypeError, match="needs the data"):
        gw.studio(model)
    run.wait()
