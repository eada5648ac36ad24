"""Plugin discovery and fault isolation, with real installed (throwaway) distributions."""

import json

import pytest

import genwidgets
from genwidgets import PluginError
from genwidgets.registry import Registry

GOOD = '''
    import dataclasses
    import torch
    from genwidgets import Capabilities, GenerativeModel, ModelConfig, hookimpl, param, TensorData

    @dataclasses.dataclass(frozen=True)
    class MeanConfig(ModelConfig):
        lr: float = param(0.1, low=0.0, high=10.0, editable=True)

    class MeanModel(GenerativeModel):
        """Learns the data mean; samples it plus unit noise."""
        name = "meanmodel"
        Config = MeanConfig
        capabilities = Capabilities(can_sample=True)
        data_kinds = ("points",)

        def __init__(self, config, *, data_spec, runtime=None):
            super().__init__(config, data_spec=data_spec, runtime=runtime)
            self.mu = torch.nn.Parameter(torch.zeros(data_spec.shape))
            self.optimizers = {"main": torch.optim.SGD([self.mu], lr=config.lr)}

        def train_step(self, batch):
            loss = ((batch.x - self.mu) ** 2).mean()
            self.runtime.backward_step(loss, self.optimizers["main"])
            return {"loss": loss.detach()}

        def sample(self, n, *, z=None, labels=None):
            return self.mu.detach() + (torch.randn(n, *self.mu.shape) if z is None else z)

    @hookimpl
    def register_models(register):
        register(MeanModel)

    @hookimpl
    def register_datasets(register):
        register("line", lambda n=64: TensorData(torch.linspace(0, 1, n * 2).reshape(n, 2), kind="points"),
                 description="points on a line", kind="points", shape=(2,), size=64)
'''


def _record(registry, name):
    return {p.name: p for p in registry.list_plugins()}[name]


def test_builtins_register_through_the_entry_point_group():
    reg = Registry()
    plugins = {p.name: p for p in reg.list_plugins()}
    assert plugins["models"].distribution == "genwidgets" and plugins["models"].error is None
    assert set(plugins["models"].models) == {"dcgan", "vae", "gan", "cgan", "wgan_gp", "beta_vae"}
    assert {"ring", "grid", "moons", "swissroll", "digits", "mnist", "dsprites"} <= set(plugins["datasets"].datasets)
    caps = {m["name"]: m["capabilities"] for m in reg.list_models()}
    assert caps["dcgan"]["can_discriminate"] and caps["dcgan"]["can_sample"] and caps["dcgan"]["can_encode"]
    assert caps["vae"]["can_encode"] and caps["vae"]["can_decode"] and not caps["vae"]["can_discriminate"]


def test_third_party_plugin_is_discovered_and_trains(install_plugin):
    install_plugin("gw-mean", "gw_mean_plugin", GOOD, version="2.3")
    rec = _record(Registry(), "gw-mean")
    assert (rec.distribution, rec.version, rec.models, rec.datasets, rec.error) == (
        "gw-mean", "2.3", ["meanmodel"], ["line"], None)
    run = genwidgets.train("meanmodel", data="line", steps=30, log_every=5, sample_every=10, checkpoint_every=None)
    run.wait()
    assert run.state == "finished" and run.step_count == 30
    assert abs(float(run.model.mu.detach().mean()) - 0.5) < 0.2


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("raise ImportError('needs libfoo')\n", "failed to import gw_bad: ImportError: needs libfoo"),
        ("from genwidgets import hookimpl\n@hookimpl\ndef register_models(register):\n    raise RuntimeError('boom')\n",
         "register_models raised RuntimeError: boom"),
        ("from genwidgets import hookimpl\n@hookimpl\ndef register_models(register):\n    register(dict)\n",
         "rejected model: <class 'dict'> is not a subclass of genwidgets.GenerativeModel"),
        ("from genwidgets import hookimpl\n@hookimpl\ndef register_model(register):\n    pass\n",
         "implements unknown hook 'register_model' (did you mean 'register_models'?)"),
        ("from genwidgets import hookimpl\n@hookimpl\ndef register_datasets(register):\n"
         "    register('mnist', lambda: None, description='x', kind='images', shape=(1,), size=1)\n",
         "rejected dataset: dataset 'mnist' is already registered by plugin 'datasets'"),
    ],
    ids=["import-error", "raises-in-hook", "not-a-model", "misspelt-hook", "dataset-name-taken"],
)
def test_broken_plugin_is_reported_and_everything_else_loads(install_plugin, source, expected):
    install_plugin("gw-bad", "gw_bad", source)
    install_plugin("gw-mean", "gw_mean_plugin", GOOD)
    reg = Registry()
    assert expected in _record(reg, "gw-bad").error
    assert {"dcgan", "vae", "meanmodel"} <= set(reg.model_names())
    assert _record(reg, "gw-mean").error is None


def test_model_name_already_taken_and_inconsistent_flags(install_plugin):
    install_plugin("gw-dup", "gw_dup", GOOD.replace('name = "meanmodel"', 'name = "dcgan"').replace(
        'register("line"', 'register("line2"'))
    install_plugin("gw-liar", "gw_liar", GOOD.replace("Capabilities(can_sample=True)",
                                                        "Capabilities(can_sample=True, can_encode=True)").replace(
        'register("line"', 'register("line3"'))
    reg = Registry()
    assert "rejected model 'dcgan': the name is already registered by plugin 'models'" in _record(reg, "gw-dup").error
    assert "sets can_encode=True but does not implement encode()" in _record(reg, "gw-liar").error
    assert reg.get_model("dcgan").__module__ == "genwidgets_models.dcgan"
    assert _record(reg, "gw-dup").datasets == ["line2"]  # its valid registrations still count


def test_load_plugins_env_selects(monkeypatch, install_plugin):
    install_plugin("gw-mean", "gw_mean_plugin", GOOD)
    monkeypatch.setenv("GENWIDGETS_LOAD_PLUGINS", "")
    assert Registry().list_plugins() == []
    monkeypatch.setenv("GENWIDGETS_LOAD_PLUGINS", "gw-mean, datasets")
    reg = Registry()
    assert sorted(p.name for p in reg.list_plugins()) == ["datasets", "gw-mean"]
    assert reg.model_names() == ["meanmodel"]
    with pytest.raises(PluginError, match="no model named 'dcgan'; registered models: meanmodel"):
        reg.get_model("dcgan")


def test_trace_plugins_env_prints_hook_calls(monkeypatch, capsys):
    monkeypatch.setenv("GENWIDGETS_TRACE_PLUGINS", "1")
    Registry().load()
    err = capsys.readouterr().err
    assert "genwidgets trace: register_models(register) -> ['models']" in err
    assert "genwidgets trace: register_datasets(register) -> ['datasets']" in err


def test_on_train_event_hook_reaches_a_logger_plugin(install_plugin, tmp_path):
    log = tmp_path / "events.jsonl"
    install_plugin("gw-logger", "gw_logger", f'''
        import json
        from genwidgets import hookimpl
        @hookimpl
        def on_train_event(run, event):
            with open({str(log)!r}, "a") as fh:
                fh.write(json.dumps(event.summary()) + "\\n")
    ''')
    run = genwidgets.train("vae", data="ring", preset="tiny", steps=20, log_every=10, sample_every=20,
                           checkpoint_every=None)
    run.wait()
    kinds = [json.loads(line)["kind"] for line in log.read_text().splitlines()]
    assert kinds.count("metrics") == 2 and "samples" in kinds and kinds[-1] == "state"


def test_list_api_is_json_ready():
    out = json.dumps({"plugins": genwidgets.list_plugins(), "models": genwidgets.list_models(),
                      "datasets": genwidgets.list_datasets()})
    assert '"dcgan"' in out and '"mnist"' in out


def _event_plugin(seen: list, *, fail: bool = False) -> object:
    """A plugin object whose on_train_event takes only ``event`` (valid in pluggy)."""
    from genwidgets import hookimpl

    class Plugin:
        @hookimpl
        def on_train_event(self, event):
            seen.append(event.kind)
            if fail:
                raise OSError(28, "No space left on device")

    return Plugin()


def test_emit_event_dispatches_through_pluggy_to_a_partial_argument_hook_and_isolates_failures():
    from genwidgets.runtime.events import Event

    reg = Registry()
    reg.load()
    seen_ok, seen_bad = [], []
    reg.add_plugin(_event_plugin(seen_bad, fail=True), name="full-disk")
    reg.add_plugin(_event_plugin(seen_ok), name="partial")
    failures = reg.emit_event(run=None, event=Event("metrics", 10, {"values": {}}))
    assert seen_ok == ["metrics"] and seen_bad == ["metrics"]  # the failure did not stop the other plugin
    assert [(name, type(exc).__name__) for name, exc in failures] == [("full-disk", "OSError")]
    assert _record(reg, "full-disk").errors == ["on_train_event raised OSError: [Errno 28] No space left on device"]
    assert _record(reg, "partial").errors == []


def test_emit_event_runs_a_plugins_hook_wrapper_and_is_traced(capsys):
    from genwidgets import hookimpl
    from genwidgets.runtime.events import Event

    calls: list[str] = []

    class Wrapped:
        @hookimpl
        def on_train_event(self, event):
            calls.append(f"hook {event.kind}")

        @hookimpl(wrapper=True, specname="on_train_event")
        def around(self, event):
            calls.append(f"before {event.kind}")
            result = yield
            calls.append(f"after {event.kind}")
            return result

    reg = Registry()
    reg.load()
    reg.add_plugin(Wrapped(), name="wrapped")
    reg.enable_tracing()
    reg.emit_event(run=None, event=Event("samples", 3, {}))
    assert calls == ["before samples", "hook samples", "after samples"]
    assert "genwidgets trace: on_train_event(run, event)" in capsys.readouterr().err


def test_a_run_feeds_a_partial_argument_plugin_and_reports_a_failing_one_once(install_plugin, tmp_path):
    log = tmp_path / "kinds.txt"
    install_plugin("gw-partial", "gw_partial", f'''
        from genwidgets import hookimpl
        @hookimpl
        def on_train_event(event):
            with open({str(log)!r}, "a") as fh:
                fh.write(event.kind + " " + str(event.data.get("message", "")).replace("\\n", " ") + "\\n")
    ''')
    install_plugin("gw-broken", "gw_broken", '''
        from genwidgets import hookimpl
        @hookimpl
        def on_train_event(run, event):
            raise RuntimeError("logger is down")
    ''')
    genwidgets.reset_registry()
    try:
        run = genwidgets.train("vae", data="ring", preset="tiny", steps=20, log_every=10, sample_every=20,
                               checkpoint_every=None)
        run.wait()
        lines = log.read_text().splitlines()
        kinds = [line.split(" ", 1)[0] for line in lines]
        assert kinds.count("metrics") == 2 and "samples" in kinds and kinds[-1] == "state"
        warned = [line for line in lines if line.startswith("warning ")]
        assert len(warned) == 1 and "plugin 'gw-broken' failed" in warned[0] and "logger is down" in warned[0]
        broken = {p.name: p for p in genwidgets.get_registry().list_plugins()}["gw-broken"]
        assert len(broken.errors) >= 4 and set(broken.errors) == {"on_train_event raised RuntimeError: logger is down"}
    finally:
        genwidgets.reset_registry()
