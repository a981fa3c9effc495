"""``marksocr train``, ``harvest``, ``ensemble`` and ``evaluate``: build and measure the digit model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from marksocr.paths import default_model_path, resources_dir
from marksocr.recognition.architectures import ARCHITECTURES


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    _register_train(sub)
    _register_harvest(sub)
    _register_ensemble(sub)
    _register_evaluate(sub)


def _register_train(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("train", help="train the digit model from MNIST (and optional extra crops)",
                       description="Train a digit model from MNIST IDX files and write it with its JSON card.")
    p.add_argument("--data", type=Path, help="folder of MNIST IDX .gz files (default: $MARKSOCR_MNIST, else ../shared/data/mnist)")
    p.add_argument("--extra", type=Path, help="extra labelled crops: DIR/<digit>/*.png (e.g. corrected digits from real sheets)")
    p.add_argument("--arch", default="default", choices=tuple(ARCHITECTURES), help="network architecture (default: %(default)s)")
    p.add_argument("--epochs", type=int, help="epochs (default: 32 for default, 5 for seed003)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--learning-rate", type=float, default=2e-3)
    p.add_argument("--limit", type=int, help="train on only this many MNIST digits (smoke runs)")
    p.add_argument("--no-augment", action="store_true", help="train on clean digits only")
    p.add_argument("--init", type=Path, help="start from this model's weights (fine-tune, e.g. with --extra)")
    p.add_argument("--augment-probability", type=float, default=0.5, help="share of digits augmented each epoch (default: %(default)s)")
    p.add_argument("--augment-pen", type=float, default=0.4,
                   help="share of augmented digits redrawn with an even-width pen, as ball-point writing (default: %(default)s)")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--split-seed", type=int,
                   help="seed of the validation split alone (default: --seed); models to be ensembled share it")
    p.add_argument("--out", type=Path, default=default_model_path(), help="model file to write (default: %(default)s); the card goes beside it")
    p.set_defaults(func=_train)


def _train(args: argparse.Namespace) -> int:
    from marksocr.recognition.train import TrainConfig, train

    config = TrainConfig(
        architecture=args.arch, epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
        seed=args.seed, split_seed=args.split_seed, limit=args.limit, augment=False if args.no_augment else None,
        data_dir=args.data, extra_dir=args.extra, init=args.init, out=args.out,
        augment_probability=args.augment_probability,
        augment_pen=args.augment_pen,
    )
    train(config, progress=lambda msg: print(msg, file=sys.stderr, flush=True), verbose=1 if sys.stderr.isatty() else 2)
    return 0


def _register_harvest(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("harvest", help="cut labelled digit crops from synthetic sheets, for `train --extra`",
                       description="Write synthetic sheets with MNIST *training* digits, capture them as scans and "
                                   "photos, read them with the sheet reader and keep each field's digit crops "
                                   "labelled with what was written: DIR/<digit>/*.png and DIR/harvest.json.")
    p.add_argument("--out", type=Path, required=True, help="empty folder for the crops")
    p.add_argument("--template", type=Path, action="append",
                   help="template to draw on (repeatable; default: every template in resources/templates)")
    p.add_argument("--sheets", type=int, default=100, help="sheets per template and style (default: %(default)s)")
    p.add_argument("--styles", default="scan,photo,hard_photo", help="comma-separated capture styles (default: %(default)s)")
    p.add_argument("--seed", type=int, default=9000, help="random seed (default: %(default)s)")
    p.add_argument("--model", type=Path, help="model that reads the sheets (default: the shipped one)")
    p.add_argument("--data", type=Path, help="folder of MNIST IDX .gz files")
    p.add_argument("--workers", type=int, default=1, help="processes reading sheets (default: %(default)s)")
    p.set_defaults(func=_harvest)


def _harvest(args: argparse.Namespace) -> int:
    from marksocr.sheets.harvest import HarvestConfig, harvest

    templates = args.template or sorted((resources_dir() / "templates").glob("*/template.json"))
    config = HarvestConfig(out=args.out, templates=tuple(templates), sheets=args.sheets,
                           styles=tuple(s.strip() for s in args.styles.split(",") if s.strip()), seed=args.seed,
                           mnist_dir=args.data, model=args.model, workers=args.workers)
    manifest = harvest(config, progress=lambda m: print(m, file=sys.stderr, flush=True))
    c = manifest["counts"]
    print(f"{args.out}: {c['crops']} crops from {c['sheets']} sheets ({c['misread_crops']} misread by the model, "
          f"{c['fields_skipped']} fields skipped for a wrong digit count, {c['crops_dropped']} crops dropped)")
    return 0


def _register_ensemble(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("ensemble", help="average models trained apart into one model file",
                       description="Combine models made by `marksocr train` on the same validation split (same "
                                   "--split-seed, or --seed) into one model: the mean of their calibrated logits, calibrated again. "
                                   "Its card lists each member's card.")
    p.add_argument("models", type=Path, nargs="+", help="model files (two or more)")
    p.add_argument("--data", type=Path, help="folder of MNIST IDX .gz files")
    p.add_argument("--out", type=Path, required=True, help="model file to write; the card goes beside it")
    p.set_defaults(func=_ensemble)


def _ensemble(args: argparse.Namespace) -> int:
    from marksocr.recognition.ensemble import combine

    combine(args.models, args.out, args.data, progress=lambda m: print(m, file=sys.stderr, flush=True))
    return 0


def _register_evaluate(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("evaluate", help="measure a digit model on the MNIST test set and write a report",
                       description="Write metrics.json, plots and a robustness table for a model; "
                                   "with --baselines, compare against classic classifiers.")
    p.add_argument("--model", type=Path, default=default_model_path(), help="model file (default: %(default)s)")
    p.add_argument("--report", type=Path, default=Path("reports/evaluation"), help="output folder (default: %(default)s)")
    p.add_argument("--data", type=Path, help="folder of MNIST IDX .gz files")
    p.add_argument("--baselines", action="store_true", help="also train and compare KNN, SVM, random forest, MLP and seed003")
    p.add_argument("--baseline-train", type=int, default=20000, help="training digits for the baselines (default: %(default)s)")
    p.add_argument("--baseline-svm-train", type=int, default=20000,
                   help="at most this many of those train the RBF SVM, whose training is quadratic (default: %(default)s)")
    p.add_argument("--limit", type=int, help="evaluate on only the first N MNIST test digits (quick runs)")
    p.add_argument("--robustness-digits", type=int, default=2000,
                   help="test digits (fixed random subset) for the robustness table (default: %(default)s)")
    p.add_argument("--update-card", action="store_true",
                   help="re-measure MNIST test accuracy and ECE with the current code and write them into the model's card")
    p.set_defaults(func=_evaluate)


def _evaluate(args: argparse.Namespace) -> int:
    if args.update_card:
        from marksocr.recognition.train import rescore_card

        m = rescore_card(args.model, args.data)["metrics"]
        print(f"{args.model}: test accuracy {m['test_accuracy']:.4%}, ECE {m['test_ece']:.4f} (card updated)", file=sys.stderr)
    from marksocr.recognition.evaluate import evaluate_model

    evaluate_model(args.model, args.report, data_dir=args.data, progress=lambda m: print(m, file=sys.stderr, flush=True),
                   limit=args.limit, robustness_digits=args.robustness_digits)
    if args.baselines:
        from marksocr.recognition.baselines import BaselineSettings, compare_baselines

        settings = BaselineSettings(svm_max_train=args.baseline_svm_train, test_size=args.limit, shipped_model=args.model)
        compare_baselines(args.report, data_dir=args.data, train_size=args.baseline_train,
                          progress=lambda m: print(m, file=sys.stderr, flush=True), settings=settings)
    return 0
