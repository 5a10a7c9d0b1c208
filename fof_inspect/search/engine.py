"""The NEAT search over pipeline genomes, an outer loop of Inspect evals.

Per generation every genome is one Inspect task on the generation's problems, `evals`
epochs each (multi-evaluation fitness), all evaluated concurrently in one eval call whose
logs land in RUN_DIR/gen-NNN/. Genomes that share a node configuration share its cached
generations within an evaluation (Inspect's generation cache, per epoch): common random
numbers. After every generation the population is bred (§3.2) and checkpointed; a resumed
run repeats no finished genome evaluation. The champion is written to RUN_DIR/champion.yaml
and validated on the full benchmark (RUN_DIR/summary.json).
"""

from __future__ import annotations

import random
import statistics
import time
from pathlib import Path
from typing import Any

from fof_inspect.compat import PrerequisiteError
from inspect_ai.dataset import Dataset
from inspect_ai.model import CachePolicy

from fof_inspect.genome import Genome
from fof_inspect.search.checkpoint import HISTORY_FILE, STATE_FILE, GenerationRecord, RunState
from fof_inspect.search.config import RunConfig
from fof_inspect.search.evaluation import GenomeEvaluation, benchmark_dataset, evaluate_genomes, genome_task
from fof_inspect.search.innovation import InnovationCounter
from fof_inspect.search.mutation import MutationContext, random_genome
from fof_inspect.search.selection import breed, fitness_with_parsimony, rank
from fof_inspect.search.speciation import Species, adapt_threshold, speciate
from fof_inspect.search.subsets import difficulty_columns, generation_problems, pass_rates_from_log
from fof_inspect.search.summary import ChampionSummary, RunSummary, ValidationSummary

INITIAL_THRESHOLD = 1.0
CHAMPION_FILE = "champion.yaml"
CONFIG_FILE = "config.json"
DEFAULT_DISPLAY = "full"
"""Inspect's own display: each genome's task with its progress while a generation runs."""


def genome_id(generation: int, index: int) -> str:
    return f"g{generation:03d}-{index:02d}"


class Search:
    """One run in its directory: `start` or `resume` it, then `step` per generation, then `validate`."""

    def __init__(self, state: RunState, run_dir: Path, display: str = DEFAULT_DISPLAY) -> None:
        self.state = state
        self.run_dir = run_dir
        self.display = display
        self._dataset: Dataset | None = None

    @classmethod
    def start(cls, config: RunConfig, run_dir: Path, display: str = DEFAULT_DISPLAY) -> Search:
        """A new run: seeded initial population and difficulty columns, checkpointed."""
        if (run_dir / STATE_FILE).exists():
            raise PrerequisiteError(f"{run_dir} already holds a run: resume it with `fof evolve --resume {run_dir}`.")
        rng = random.Random(config.seed)
        dataset = benchmark_dataset(config.task, config.data_dir)
        problems = [str(sample.id) for sample in dataset]
        pass_rates = pass_rates_from_log(config.baseline) if config.baseline else None
        columns = difficulty_columns(problems, pass_rates, rng, size=min(config.subset, len(problems)))
        innovation = InnovationCounter()
        ctx = MutationContext(models=config.models, innovation=innovation)
        population = {genome_id(0, i): random_genome(rng, ctx) for i in range(config.population)}
        state = RunState(
            config=config,
            population=population,
            columns=columns,
            innovation=innovation.value,
            threshold=INITIAL_THRESHOLD,
            rng_state=[],
        )
        search = cls(state, run_dir, display)
        search._dataset = dataset
        search.state.keep_rng(rng)
        search.state.save(run_dir)
        (run_dir / CONFIG_FILE).write_text(config.model_dump_json(indent=1))
        return search

    @classmethod
    def resume(cls, run_dir: Path, display: str = DEFAULT_DISPLAY) -> Search:
        return cls(RunState.load(run_dir), run_dir, display)

    @property
    def config(self) -> RunConfig:
        return self.state.config

    @property
    def dataset(self) -> Dataset:
        if self._dataset is None:
            self._dataset = benchmark_dataset(self.config.task, self.config.data_dir)
        return self._dataset

    @property
    def done(self) -> bool:
        return self.state.generation >= self.config.generations

    def run(self) -> Genome:
        """Evaluate and breed generation after generation; return the champion."""
        while not self.done:
            self.step()
        return Genome.from_yaml(self.run_dir / CHAMPION_FILE)

    def step(self) -> GenerationRecord:
        """Evaluate the current generation, record it, breed the next one and checkpoint."""
        state, config = self.state, self.config
        g = state.generation
        problems = generation_problems(state.columns, g)
        started = time.monotonic()
        print(f"gen {g + 1}/{config.generations}: {len(state.population)} genomes on {len(problems)} problems "
              f"x {config.evals} evals ...", flush=True)
        cache = CachePolicy(
            expiry=None, per_epoch=True, scopes={"fof_run": self.run_dir.resolve().name, "generation": str(g)}
        )
        tasks = {
            gid: genome_task(self.dataset, gid, genome, problems, config.evals, config.regime, cache,
                             max_containers=config.max_sandboxes)
            for gid, genome in state.population.items()
        }
        results = evaluate_genomes(tasks, self.run_dir / f"gen-{g:03d}", model=config.models[0], **self._eval_settings())
        record, species = self.summarise(results, time.monotonic() - started)
        state.history.append(record)
        state.champion_id = record.champion_id
        state.population[record.champion_id].model_copy(
            update={"name": "champion", "description": f"fof evolve {self.run_dir.name}, generation {g + 1}"}
        ).save(self.run_dir / CHAMPION_FILE)
        print(record.line(), flush=True)
        with (self.run_dir / HISTORY_FILE).open("a") as f:
            f.write(record.model_dump_json() + "\n")
        self.advance(results, species)
        state.save(self.run_dir)
        return record

    def validate(self) -> RunSummary:
        """The champion on the full benchmark over n runs: mean ± sd, and the single-run inflation."""
        config, state = self.config, self.state
        champion = Genome.from_yaml(self.run_dir / CHAMPION_FILE)
        n = config.validate_runs
        problems = [str(sample.id) for sample in self.dataset]
        print(f"Validating the champion on all {len(problems)} problems over {n} runs ...", flush=True)
        task = genome_task(self.dataset, "champion", champion, problems, n, config.regime,
                           max_containers=config.max_sandboxes)
        [result] = evaluate_genomes(
            {"champion": task}, self.run_dir / "validation", model=config.models[0], **self._eval_settings()
        ).values()
        summary = RunSummary(
            regime=config.regime,
            task=config.task,
            champion=ChampionSummary(
                describe=champion.describe(),
                genome=champion,
                iterations=champion.total_iterations,
                search_fitness=state.history[-1].best_raw if state.history else None,
                subset_size=len(state.columns[0]),
            ),
            validation=ValidationSummary.of_runs(result.runs, benchmark_size=len(problems)),
        )
        summary.save(self.run_dir)
        print(summary.line(), flush=True)
        return summary

    def _eval_settings(self) -> dict[str, Any]:
        """How hard Inspect drives the model and the sandbox (bench/harness.py measured these)."""
        return {
            "display": self.display,
            "log_level": "warning",
            "max_connections": self.config.max_connections,
            # max_sandboxes goes to the tasks' fof_docker config (genome_task), not to Inspect,
            # whose own cap makes every sample sleep a random 0-1 s before its sandbox starts
        }

    def summarise(self, results: dict[str, GenomeEvaluation], seconds: float) -> tuple[GenerationRecord, list[Species]]:
        """The generation's record: best, mean, species, threshold, champion so far, cache savings."""
        state = self.state
        population = state.population
        adjusted = {
            gid: fitness_with_parsimony(r.fitness, population[gid], self.config.parsimony) for gid, r in results.items()
        }
        species_ids = iter(range(state.next_species_id, 10**9))
        species = speciate(population, state.species, state.threshold, lambda: next(species_ids))
        champion_id = rank(list(results), adjusted, population)[0]
        record = GenerationRecord(
            generation=state.generation + 1,
            best=round(adjusted[champion_id], 4),
            best_raw=results[champion_id].fitness,
            mean=round(statistics.fmean(adjusted.values()), 4),
            species=len(species),
            threshold=round(state.threshold, 3),
            champion_id=champion_id,
            champion=population[champion_id].describe(),
            champion_runs=results[champion_id].runs,
            model_calls=sum(r.model_calls for r in results.values()),
            cache_saved_calls=sum(r.cache_reads for r in results.values()),
            seconds=round(seconds, 1),
        )
        state.next_species_id = max([s.id for s in species] + [state.next_species_id - 1]) + 1
        return record, species

    def advance(self, results: dict[str, GenomeEvaluation], species: list[Species]) -> None:
        """Breed the next generation (unless this was the last) and adapt the species threshold."""
        state, config = self.state, self.config
        state.threshold = adapt_threshold(state.threshold, len(species))
        state.species = species
        state.generation += 1
        if self.done:
            return
        rng = state.rng()
        ctx = MutationContext(models=config.models, innovation=InnovationCounter(state.innovation))
        children = breed(
            state.population,
            {gid: r.fitness for gid, r in results.items()},
            species,
            rng,
            ctx,
            size=config.population,
            parsimony=config.parsimony,
        )
        state.population = {genome_id(state.generation, i): child for i, child in enumerate(children)}
        state.innovation = ctx.innovation.value
        state.keep_rng(rng)
