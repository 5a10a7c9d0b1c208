"""`fof evolve`: the NEAT search over pipeline genomes, an outer loop of Inspect evals.

Per generation every genome is one Inspect task on the generation's problems, `--evals`
epochs each (multi-evaluation fitness), all evaluated concurrently in one eval call whose
logs land in RUN_DIR/gen-NNN/. Genomes that share a node configuration share its cached
generations within an evaluation (Inspect's generation cache, per epoch): common random
numbers. After every generation the population is bred (§3.2) and checkpointed;
`fof evolve --resume RUN_DIR` continues, repeating no finished genome evaluation. The
champion is written to RUN_DIR/champion.yaml and validated on the full benchmark.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from inspect_ai.model import CachePolicy

from fof_inspect.benchmark_task import MAX_CONNECTIONS
from fof_inspect.checkpoint import RunState, SpeciesState
from fof_inspect.compat import PrerequisiteError
from fof_inspect.genome import Genome
from fof_inspect.genome_eval import (
    GenomeEvaluation,
    benchmark_dataset,
    evaluate_genomes,
    genome_task,
)
from fof_inspect.innovation import InnovationCounter
from fof_inspect.mutation import MutationContext, random_genome
from fof_inspect.selection import breed, fitness_with_parsimony, rank
from fof_inspect.speciation import Species, adapt_threshold, speciate
from fof_inspect.subsets import difficulty_columns, generation_problems, pass_rates_from_log

PAPER_MODELS = "ollama/gemma3:1b,ollama/qwen2.5:1.5b,ollama/llama3.2:3b"
INITIAL_THRESHOLD = 1.0
MAX_SANDBOXES = 8


def add_evolve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", choices=["humaneval", "mbpp"], default="humaneval")
    parser.add_argument("--models", default=PAPER_MODELS, help="comma-separated model pool")
    parser.add_argument("--population", type=int, default=20)
    parser.add_argument("--generations", type=int, default=10)
    parser.add_argument("--subset", type=int, default=25, help="problems per generation")
    parser.add_argument("--evals", type=int, default=3, help="independent evaluations per genome")
    parser.add_argument("--regime", choices=["stochastic", "deterministic"], default="stochastic")
    parser.add_argument("--parsimony", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baseline", help="log of a solo run: per-problem pass rates stratify the subsets")
    parser.add_argument("--data-dir", help="benchmark data folder (MBPP); else $FOF_DATA_DIR")
    parser.add_argument("--validate-runs", type=int, default=5, help="full-benchmark runs of the champion (0: skip)")
    parser.add_argument("--max-connections", type=int, default=MAX_CONNECTIONS,
                        help="concurrent model requests (Inspect); about 2x OLLAMA_NUM_PARALLEL keeps Ollama busy")
    parser.add_argument("--max-sandboxes", type=int, default=MAX_SANDBOXES,
                        help="sandbox containers across all genomes evaluated at once")
    parser.add_argument("--run-dir", help="default: logs/evolve-<time>")
    parser.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fof evolve", description=__doc__.splitlines()[0])
    add_evolve_arguments(parser)
    return run(parser.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    try:
        if args.resume:
            run_dir = Path(args.resume)
            state = RunState.load(run_dir)
            print(f"Resuming {run_dir} at generation {state.generation}.")
        else:
            run_dir = Path(args.run_dir or f"logs/evolve-{datetime.now():%Y%m%d-%H%M%S}")
            if (run_dir / "state.json").exists():
                raise PrerequisiteError(f"{run_dir} already holds a run: resume it with `fof evolve --resume {run_dir}`.")
            state = start(vars(args), run_dir)
        champion = search(state, run_dir)
        if state.config["validate_runs"] > 0:
            validate(champion, state, run_dir)
    except PrerequisiteError as ex:
        print(f"fof evolve: {ex}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\nInterrupted: resume with `fof evolve --resume {run_dir}`.", file=sys.stderr)
        return 130
    return 0


def start(config: dict[str, Any], run_dir: Path) -> RunState:
    """A new run: seeded initial population and difficulty columns, checkpointed."""
    config = {k: v for k, v in config.items() if k not in ("resume", "func", "command")}
    config["models"] = [m.strip() for m in str(config["models"]).split(",") if m.strip()]
    rng = random.Random(config["seed"])
    problems = [str(sample.id) for sample in benchmark_dataset(config["task"], config["data_dir"])]
    pass_rates = pass_rates_from_log(config["baseline"]) if config.get("baseline") else None
    columns = difficulty_columns(problems, pass_rates, rng, size=min(config["subset"], len(problems)))
    innovation = InnovationCounter()
    ctx = MutationContext(models=config["models"], innovation=innovation)
    population = {genome_id(0, i): random_genome(rng, ctx) for i in range(config["population"])}
    state = RunState(
        config=config,
        population=population,
        columns=columns,
        innovation=innovation.value,
        threshold=INITIAL_THRESHOLD,
        rng_state=[],
    )
    state.keep_rng(rng)
    state.save(run_dir)
    (run_dir / "config.json").write_text(json.dumps(config, indent=1))
    return state


def genome_id(generation: int, index: int) -> str:
    return f"g{generation:03d}-{index:02d}"


def search(state: RunState, run_dir: Path) -> Genome:
    """Evaluate and breed generation after generation; return the champion."""
    config = state.config
    dataset = benchmark_dataset(config["task"], config["data_dir"])
    eval_args = inspect_settings(config)
    while state.generation < config["generations"]:
        g = state.generation
        problems = generation_problems(state.columns, g)
        started = time.monotonic()
        print(f"gen {g + 1}/{config['generations']}: {len(state.population)} genomes on {len(problems)} problems "
              f"x {config['evals']} evals ...", flush=True)
        cache = CachePolicy(expiry=None, per_epoch=True, scopes={"fof_run": run_dir.resolve().name, "generation": str(g)})
        tasks = {
            gid: genome_task(dataset, gid, genome, problems, config["evals"], config["regime"], cache)
            for gid, genome in state.population.items()
        }
        results = evaluate_genomes(tasks, run_dir / f"gen-{g:03d}", model=config["models"][0], **eval_args)
        record, species = summarise(state, results, time.monotonic() - started)
        state.history.append(record)
        state.champion_id = record["champion_id"]
        state.population[record["champion_id"]].model_copy(
            update={"name": "champion", "description": f"fof evolve {run_dir.name}, generation {g + 1}"}
        ).save(run_dir / "champion.yaml")
        print(progress_line(record), flush=True)
        with (run_dir / "history.jsonl").open("a") as f:
            f.write(json.dumps(record) + "\n")
        advance(state, results, species)
        state.save(run_dir)
    return Genome.from_yaml(run_dir / "champion.yaml")


def inspect_settings(config: dict[str, Any]) -> dict[str, Any]:
    """How hard Inspect drives the model and the sandbox (bench/harness.py measured these)."""
    return {
        "display": "none",
        "log_level": "warning",
        "max_connections": config.get("max_connections") or MAX_CONNECTIONS,
        "max_sandboxes": config.get("max_sandboxes") or MAX_SANDBOXES,
    }


def summarise(
    state: RunState, results: dict[str, GenomeEvaluation], seconds: float
) -> tuple[dict[str, Any], list[Species]]:
    """The generation's record: best, mean, species, threshold, champion so far, cache savings."""
    parsimony = state.config["parsimony"]
    adjusted = {gid: fitness_with_parsimony(r.fitness, state.population[gid], parsimony) for gid, r in results.items()}
    species_ids = iter(range(state.next_species_id, 10**9))
    previous = [Species(s.id, s.representative, s.members) for s in state.species]
    species = speciate(state.population, previous, state.threshold, lambda: next(species_ids))
    champion_id = rank(list(results), adjusted, state.population)[0]
    record = {
        "generation": state.generation + 1,
        "best": round(adjusted[champion_id], 4),
        "best_raw": results[champion_id].fitness,
        "mean": round(statistics.fmean(adjusted.values()), 4),
        "species": len(species),
        "threshold": round(state.threshold, 3),
        "champion_id": champion_id,
        "champion": state.population[champion_id].describe(),
        "champion_runs": results[champion_id].runs,
        "model_calls": sum(r.model_calls for r in results.values()),
        "cache_saved_calls": sum(r.cache_reads for r in results.values()),
        "seconds": round(seconds, 1),
    }
    state.next_species_id = max([s.id for s in species] + [state.next_species_id - 1]) + 1
    return record, species


def advance(state: RunState, results: dict[str, GenomeEvaluation], species: list[Species]) -> None:
    """Breed the next generation (unless this was the last) and adapt the species threshold."""
    config = state.config
    state.threshold = adapt_threshold(state.threshold, len(species))
    state.species = [SpeciesState(id=s.id, representative=s.representative, members=s.members) for s in species]
    state.generation += 1
    if state.generation >= config["generations"]:
        return
    rng = state.rng()
    ctx = MutationContext(models=config["models"], innovation=InnovationCounter(state.innovation))
    children = breed(
        state.population,
        {gid: r.fitness for gid, r in results.items()},
        species,
        rng,
        ctx,
        size=config["population"],
        parsimony=config["parsimony"],
    )
    state.population = {genome_id(state.generation, i): child for i, child in enumerate(children)}
    state.innovation = ctx.innovation.value
    state.keep_rng(rng)


def progress_line(record: dict[str, Any]) -> str:
    return (
        f"gen {record['generation']}: best {record['best']:.2f} (solved {record['best_raw']:.2f}) "
        f"| mean {record['mean']:.2f} | species {record['species']} | threshold {record['threshold']:.2f} "
        f"| cache saved {record['cache_saved_calls']}/{record['model_calls']} calls | {record['seconds']:.0f}s "
        f"| champion {record['champion_id']}: {record['champion']}"
    )


def validate(champion: Genome, state: RunState, run_dir: Path) -> dict[str, Any]:
    """The champion on the full benchmark over n runs: mean ± sd, and the single-run inflation."""
    config = state.config
    dataset = benchmark_dataset(config["task"], config["data_dir"])
    n = config["validate_runs"]
    problems = [str(sample.id) for sample in dataset]
    print(f"Validating the champion on all {len(problems)} problems over {n} runs ...", flush=True)
    task = genome_task(dataset, "champion", champion, problems, n, config["regime"])
    [result] = evaluate_genomes(
        {"champion": task}, run_dir / "validation", model=config["models"][0], **inspect_settings(config)
    ).values()
    runs = result.runs
    mean = statistics.fmean(runs)
    sd = statistics.stdev(runs) if len(runs) > 1 else 0.0
    search_fitness = state.history[-1]["best_raw"] if state.history else None
    summary = {
        "regime": config["regime"],
        "task": config["task"],
        "champion": {
            "describe": champion.describe(),
            "iterations": champion.total_iterations,
            "search_fitness": search_fitness,
            "subset_size": len(state.columns[0]),
        },
        "validation": {
            "single_run": runs[0],
            "runs": runs,
            "mean": round(mean, 3),
            "sd": round(sd, 3),
            "benchmark_size": len(problems),
            "single_run_inflation": round((runs[0] - mean) / mean, 4) if mean else None,
        },
    }
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=1))
    print(
        f"Champion {champion.describe()}: {mean:.1f} ± {sd:.1f} of {len(problems)} over {n} runs "
        f"(single run {runs[0]}, {summary['validation']['single_run_inflation']:+.1%} vs the {n}-run mean)"
        if mean else f"Champion solved nothing over {n} runs.",
        flush=True,
    )
    return summary


if __name__ == "__main__":
    sys.exit(main())
