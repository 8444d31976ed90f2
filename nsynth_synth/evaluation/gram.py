"""The SynthNet paper's Figure 1 (`evaluate gram`): Gram matrices of every dilated block's output,
projected to 2-D by t-SNE over all layers and styles at once.

Networks each trained on one style (the same scores rendered with different instruments) run
teacher-forced over the same excerpt: the first `seconds` of the first validation piece, each fed
the rendering in its own style. The output of every dilated block (Eq. 3, x_l = x_{l-1} + W_r h_l),
A [time, channels], gives a Gram matrix G = A^T A / time; its upper triangle is that block's point.
The paper finds the points separating by style more as the layer index grows: the low layers hold
generic audio features common to every timbre. Silhouette scores of the two labelings (by layer,
by style), on the Gram features and on the 2-D map, and the distance between styles at each layer
put numbers on that.

DeepVoice's last block has no residual 1x1 (its output feeds only the skip), so it has no Eq. 3
output: a DeepVoice run gives one point fewer than it has layers.
"""

import os

import keras
import numpy as np
from tqdm import tqdm

from nsynth_synth.data.bach import read_manifest, teacher_forced_inputs
from nsynth_synth.errors import DataError, NsynthSynthError
from nsynth_synth.evaluation.report import markdown_table, shown_path, write_report
from nsynth_synth.models.kinds import kind_of
from nsynth_synth.runs import checkpoint_step, load_trained_model, read_run_record
from nsynth_synth.training.quality import validation_reference

PLOT = "gram_tsne.png"
TSNE_SEED = 0


def gram_matrix(activations):
    """activations [batch, time, channels] -> Gram matrices A^T A / time, float32 [batch, channels, channels]."""
    activations = keras.ops.cast(activations, "float32")
    # The time length as a tensor [batch, 1, 1]: symbolic inputs (keras.Model outputs) have no static length.
    time = keras.ops.sum(keras.ops.ones_like(activations[:, :, :1]), axis=1, keepdims=True)
    return keras.ops.einsum("btc,btd->bcd", activations, activations) / time


def upper_triangle(gram):
    """[..., channels, channels] -> [..., channels * (channels + 1) / 2]: the diagonal and above, row by row
    (a Gram matrix is symmetric, so this is all of it)."""
    gram = np.asarray(gram)
    rows, columns = np.triu_indices(gram.shape[-1])
    return gram[..., rows, columns]


def block_output_model(model, config):
    """A model built by models.build_model -> a keras.Model on the same inputs (and weights) whose
    outputs are the dilated blocks' outputs x_l (Eq. 3), a list of [batch, time, residual_channels].

    The network's wiring runs once more over the model's own layers, recording the input of each
    block's dilated convolution (x_{l-1}) and its residual 1x1 output (W_r h_l).
    """
    layers = {layer.name: layer for layer in model.layers}
    recorded = {}

    def conv(name, x):
        recorded[name] = x  # for "layer{l}_conv": x_{l-1}
        return layers[name](x)

    def residual(name):
        def call(hidden):
            recorded[name] = layers[name](hidden)
            return recorded[name]
        return call

    # The kind's network (models.contract: `network`) rewired with recording residual layers.
    adopted = kind_of(config).network(model, config)
    network = type(adopted)(config, {**layers, **{n: residual(n) for n in layers if n.endswith("_residual")}})
    inputs = model.input
    conditioning, _ = network.condition(inputs["piano_roll"], conv)
    network.autoregress(inputs["audio_ids"], conditioning, network.style_terms(inputs.get("style_id")), conv)
    outputs = [keras.ops.add(recorded[f"layer{i}_conv"], recorded[f"layer{i}_residual"])
               for i in range(len(config.dilations)) if f"layer{i}_residual" in recorded]
    return keras.Model(inputs, outputs, name=f"{model.name}_blocks")


def gram_model(model, config):
    """Like block_output_model, but each output is its Gram matrix [batch, channels, channels]."""
    blocks = block_output_model(model, config)
    return keras.Model(blocks.input, [gram_matrix(x) for x in blocks.outputs], name=f"{model.name}_grams")


def _describe_run(run_dir, seconds):
    """Check a run directory without loading its model -> dict: record, config, style (program and
    name), and the reference excerpt (roll, audio, piece) of its data set in its style."""
    record = read_run_record(run_dir)
    preset = record.train.preset
    if not record.plays_midi or record.kind.network is None:
        raise NsynthSynthError(f"{run_dir}: a {preset} run; the Gram projection compares the autoregressive "
                               "networks that play a piano roll sample by sample (wavenet_*, deepvoice_*, synthnet_*)")
    styles = record.data["styles"]
    programs = record.train.styles or [s["program"] for s in styles]
    if len(programs) != 1:
        raise NsynthSynthError(f"{run_dir}: trained on styles {list(programs)}; the Gram projection compares "
                               "networks each trained on one style (train with --styles PROGRAM)")
    program = programs[0]
    data_dir = shown_path(record.train.data)
    try:
        reference = validation_reference(data_dir, read_manifest(data_dir), program, seconds)
    except DataError as error:
        raise NsynthSynthError(f"{run_dir}: cannot read its data set: {error}") from error
    if reference is None:
        raise NsynthSynthError(f"{run_dir}: its data set {data_dir} has no validation split to take the excerpt from")
    return {"run": run_dir, "record": record, "config": record.model, "program": program,
            "style": next(s["name"] for s in styles if s["program"] == program), "data": data_dir,
            "roll": reference[0], "audio": reference[1], "piece": reference[2]}


def _check_comparable(runs):
    """Every run against the first: the same sample rate, frame hop, width and score excerpt."""
    first = runs[0]
    for run in runs[1:]:
        for what, value in (("sample rate", lambda r: r["config"].sample_rate),
                            ("frame hop", lambda r: r["record"].data["frame_hop"]),
                            ("residual channels", lambda r: r["config"].residual_channels)):
            if value(run) != value(first):
                raise NsynthSynthError(f"{run['run']}: {what} {value(run)}, but {first['run']} has {value(first)}; "
                                       "the Gram matrices of runs are comparable only when these agree")
        if run["piece"] != first["piece"] or not np.array_equal(run["roll"], first["roll"]):
            raise NsynthSynthError(
                f"{run['run']}: its excerpt is {run['piece']} of {run['data']} ({len(run['roll'])} frames), but "
                f"{first['run']} has {first['piece']} of {first['data']} ({len(first['roll'])} frames); every run "
                "must be trained on a set of the same scores with the same first validation piece")


def project_2d(features):
    """Feature vectors [points, features] -> (t-SNE coordinates [points, 2], the perplexity used):
    perplexity 30 (sklearn's default) or less so that it fits the point count, a fixed random_state."""
    from sklearn.manifold import TSNE

    perplexity = min(30.0, (len(features) - 1) / 3)
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", learning_rate="auto", random_state=TSNE_SEED)
    return tsne.fit_transform(np.asarray(features, np.float64)), perplexity


def silhouette(points, labels):
    """Mean silhouette [-1, 1] of a labeling of points [n, dims] (high: each point is nearer its own
    group than the others); None when it is undefined (fewer than 2 groups, or every point its own)."""
    from sklearn.metrics import silhouette_score

    return float(silhouette_score(points, labels)) if 2 <= len(set(labels)) < len(labels) else None


def layer_separation(features, coordinates, layers, runs):
    """Per layer index held by 2 or more runs: the mean distance between the runs' points, in the 2-D
    map and on the Gram features relative to their norm (||G_a - G_b|| / mean(||G_a||, ||G_b||))
    -> [{layer, runs, distance_2d, relative_gram_distance}]."""
    rows = []
    for layer in sorted(set(layers)):
        index = [i for i, l in enumerate(layers) if l == layer]
        pairs = [(a, b) for n, a in enumerate(index) for b in index[n + 1:] if runs[a] != runs[b]]
        if not pairs:
            continue
        distance_2d = np.mean([np.linalg.norm(coordinates[a] - coordinates[b]) for a, b in pairs])
        relative = np.mean([np.linalg.norm(features[a] - features[b]) * 2
                            / max(np.linalg.norm(features[a]) + np.linalg.norm(features[b]), 1e-12)
                            for a, b in pairs])
        rows.append({"layer": layer, "runs": len(index), "distance_2d": float(distance_2d),
                     "relative_gram_distance": float(relative)})
    return rows


def _format(value):
    return "n/a" if value is None else f"{value:.3f}"


def gram_projection(run_dirs, out_dir, seconds=1.0, which="best", progress=True):
    """Figure 1 over run directories of MIDI-conditioned models -> results dict; writes the report
    folder out_dir (report.md, report.json with the 2-D coordinates, the plot)."""
    from nsynth_synth.metrics.plots import projection_png, save_png

    if len(run_dirs) < 2:
        raise NsynthSynthError(f"give at least 2 run directories to compare, got {len(run_dirs)}: {list(run_dirs)}")
    if seconds <= 0:
        raise NsynthSynthError(f"--seconds must be positive, got {seconds}")
    runs = [_describe_run(run_dir, seconds) for run_dir in run_dirs]
    _check_comparable(runs)

    features, layers, owners = [], [], []
    for index, run in enumerate(tqdm(runs, desc="Gram matrices", unit="run", disable=not progress)):
        model, config, record, checkpoint = load_trained_model(run["run"], which)
        inputs, _ = teacher_forced_inputs(run["roll"], run["audio"], record.data["frame_hop"], record.train.upsample)
        grams = gram_model(model, config)(inputs, training=False)
        run.update(checkpoint=checkpoint, step=checkpoint_step(checkpoint), layers=len(grams))
        for layer, gram in enumerate(grams):
            features.append(upper_triangle(keras.ops.convert_to_numpy(gram)[0]))
            layers.append(layer)
            owners.append(index)
    features = np.stack(features).astype(np.float64)
    coordinates, perplexity = project_2d(features)
    styles = [runs[i]["style"] for i in owners]
    scores = {space: {"by_layer": silhouette(points, layers), "by_style": silhouette(points, styles)}
              for space, points in (("gram", features), ("tsne", coordinates))}
    separation = layer_separation(features, coordinates, layers, owners)

    first = runs[0]
    title = "Gram matrix projection (SynthNet Figure 1)"
    save_png(projection_png(coordinates, layers, styles, "layer index", "style", title), os.path.join(out_dir, PLOT))
    sections = [
        f"The output of every dilated block (Eq. 3) of {len(runs)} networks, each run teacher-forced ({which} "
        f"checkpoint) over the first {len(first['audio']) / first['config'].sample_rate:g} s of `{first['piece']}` "
        f"(the first validation piece of `{first['data']}`) rendered in its own style. Each block's Gram matrix "
        f"A^T A / time gives its upper triangle ({features.shape[1]} values) as a point; all "
        f"{len(features)} points are projected together to 2-D by t-SNE (perplexity {perplexity:g}, random_state "
        f"{TSNE_SEED}). Colour: layer index; shape: style.",
        f"![Gram matrix projection]({PLOT})",
        markdown_table(["run", "preset", "style", "checkpoint step", "points"],
                       [[f"`{r['run']}`", r["record"].train.preset, f"{r['program']} {r['style']}", r["step"],
                         r["layers"]] for r in runs]),
        "Do the points group by layer or by style? Mean silhouette of each labeling, in [-1, 1] (higher: "
        "points nearer their own group than the others; n/a: fewer than 2 groups).",
        markdown_table(["points", "silhouette by layer", "silhouette by style"],
                       [["Gram features", _format(scores["gram"]["by_layer"]), _format(scores["gram"]["by_style"])],
                        ["t-SNE 2-D", _format(scores["tsne"]["by_layer"]), _format(scores["tsne"]["by_style"])]]),
        "How far apart the styles are at each layer (the paper: they separate further as the layer index grows). "
        "Relative Gram distance: ||G_a - G_b|| / mean(||G_a||, ||G_b||), averaged over pairs of runs.",
        markdown_table(["layer", "runs", "mean 2-D distance", "relative Gram distance"],
                       [[s["layer"], s["runs"], f"{s['distance_2d']:.2f}", f"{s['relative_gram_distance']:.3f}"]
                        for s in separation]),
    ]
    results = {
        "seconds": seconds, "checkpoint": which, "piece": first["piece"], "data": first["data"],
        "samples": len(first["audio"]), "features_per_point": int(features.shape[1]), "perplexity": perplexity,
        "tsne_random_state": TSNE_SEED,
        "runs": [{"run": r["run"], "preset": r["record"].train.preset, "program": r["program"],
                  "style": r["style"], "checkpoint": r["checkpoint"], "step": r["step"], "layers": r["layers"]}
                 for r in runs],
        "points": [{"run": runs[owner]["run"], "style": style, "layer": layer, "x": float(x), "y": float(y)}
                   for owner, style, layer, (x, y) in zip(owners, styles, layers, coordinates)],
        "silhouette": scores,
        "layer_separation": separation,
    }
    write_report(out_dir, title, sections, results)
    return results
