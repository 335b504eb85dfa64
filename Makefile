# The few commands a person types. `make help` lists them.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
# .venv is this clone's own environment (scripts/setup.sh), with this clone installed in it.

# Pipeline parameters (passed through to the stage notebooks by papermill).
ARCH    ?=
EPOCHS  ?=
DATASET ?=
IMG     ?=
BATCH   ?=
PROFILE ?= params/default.yaml
RUN     ?=
STAGES  ?=
FUZZ_SECONDS ?= 60

# Benchmark sizes (make bench); the peers (ONNX Runtime, onnx) are settings.ini's bench_requirements.
BENCH_MODELS  ?= resnet18,resnet50,mobilenet_v2
BENCH_BATCHES ?= 1,8
BENCH_ROUNDS  ?= 3
BENCH_THREADS ?= 0
BENCH_IMAGES  ?= 16
BENCH_MINUTES ?= 0
comma := ,
# our runtimes also timed on one thread (thread scaling), for these of BENCH_MODELS
BENCH_SCALING ?= $(filter resnet18,$(subst $(comma), ,$(BENCH_MODELS)))
BENCH_OUT     ?= bench

.PHONY: help setup pipeline test lab readme c c-test devices fuzz bench clean

help:
	@echo "make setup      create the pinned virtual environment (.venv) and install tinyruntime"
	@echo "make pipeline   run every stage notebook headlessly into runs/<UTC timestamp>/"
	@echo "                (ARCH=resnet18 EPOCHS=3 DATASET=path/or/hub-id IMG=32 BATCH=64 PROFILE=params/x.yaml RUN=dir"
	@echo "                 STAGES=02_train,03_test_dataset_generator,05_export,06_quantize)"
	@echo "make test       check notebooks and module agree, then nbdev_test, C tests and pytest"
	@echo "make lab        JupyterLab on the repository (nbs/ and runs/); prints the URL (PORT=8888 IP=127.0.0.1)"
	@echo "make readme     render nbs/index.ipynb to README.md"
	@echo "make c          build the C runtime (c/build/run, c/build/runq)"
	@echo "make devices    static binaries for amd64 and arm64 in dist/inferences/ (tinyMLaaS layout, manifest.json)"
	@echo "make fuzz       run every libFuzzer target of c/fuzz for FUZZ_SECONDS each (default 60; clang)"
	@echo "make bench      run, runq beside PyTorch and ONNX Runtime: bench/results.json, results.md, plots"
	@echo "                (BENCH_MODELS=resnet18,... BENCH_BATCHES=1,8 BENCH_ROUNDS=3 BENCH_THREADS=0 for all cores,"
	@echo "                BENCH_IMAGES=16 timed per process, BENCH_MINUTES=0: no round past that many minutes;"
	@echo "                BENCH_SCALING=resnet18: those models' run/runq also on one thread, for the thread scaling;"
	@echo "                model files are kept in build/bench-models and reused)"

setup:
	@bash scripts/setup.sh

pipeline: setup
	@$(PY) -m tinyruntime.pipeline --profile "$(PROFILE)" \
	  $(if $(ARCH),--arch "$(ARCH)") $(if $(EPOCHS),--epochs "$(EPOCHS)") \
	  $(if $(DATASET),--dataset "$(DATASET)") $(if $(IMG),--img_size "$(IMG)") $(if $(BATCH),--batch_size "$(BATCH)") \
	  $(if $(RUN),--run_dir "$(RUN)") $(if $(STAGES),--stages "$(STAGES)")

test: setup
	@bash scripts/test.sh

lab: setup
	@bash scripts/lab.sh

readme: setup
	@bash scripts/readme.sh

c:
	$(MAKE) -C c

bench: setup
	@$(PY) -c 'import onnxruntime, onnx' 2>/dev/null || $(PY) -m pip install -q $$(sed -n 's/^bench_requirements *= *//p' settings.ini)
	@$(MAKE) -s -C c
	@$(PY) -c 'from tinyruntime.bench import bench_main; bench_main()' --models "$(BENCH_MODELS)" --batches "$(BENCH_BATCHES)" \
	  --rounds "$(BENCH_ROUNDS)" --threads "$(BENCH_THREADS)" --img_size 224 --out_dir "$(BENCH_OUT)" \
	  --timed_images "$(BENCH_IMAGES)" --max_minutes "$(BENCH_MINUTES)" --scaling "$(BENCH_SCALING)" --cache_dir build/bench-models

c-test:
	$(MAKE) -C c test

devices:
	@bash scripts/devices.sh dist
fuzz:
	$(MAKE) -C c/fuzz run FUZZ_SECONDS=$(FUZZ_SECONDS)

clean:
	rm -rf c/build _proc .pytest_cache
