"""A process that has paid for the imports of tinyruntime's console scripts (torch and torchvision: ~15 s of CPU
each time on a slow host) once, and then runs an installed console script in a child forked from it, as often as
asked.

Used by tests/test_interrupts.py, which stops a writer a dozen times: each stop needs a fresh process, and the
writing it checks happens after the imports. The child runs the console script's file itself (the wrapper pip
wrote into the environment's bin/) as `__main__`, with its own `sys.argv`, signal handlers as a fresh interpreter
has them, stdout to /dev/null and stderr to a file; it exits through the interpreter's usual exit (atexit hooks,
a traceback for an uncaught KeyboardInterrupt).

Protocol: one line each way on stdin/stdout, its fields apart by NUL characters:
  run SCRIPT STDERR_FILE ARG...        ->  the child's pid      (SCRIPT: the console script's path)
  poll PID                             ->  `running`, or its exit status as subprocess reports it (-N: killed by signal N)
  wait PID                             ->  its exit status, once it has exited
"""
import importlib, os, runpy, signal, sys

MODULES = ['torch', 'torchvision', 'tinyruntime.train', 'tinyruntime.test_dataset_generator', 'tinyruntime.export',
           'tinyruntime.quantize']


def child(script, err, argv):
    "In the forked child: become the console script `script` and run it; never returns."
    fd = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644); os.dup2(fd, 2); os.close(fd)
    fd = os.open(os.devnull, os.O_RDWR); os.dup2(fd, 0); os.dup2(fd, 1); os.close(fd)
    signal.signal(signal.SIGINT, signal.default_int_handler); signal.signal(signal.SIGTERM, signal.SIG_DFL)
    sys.argv = [script, *argv]
    runpy.run_path(script, run_name='__main__')     # its `sys.exit(main())` ends the child
    sys.exit(0)


def main():
    for m in MODULES: importlib.import_module(m)
    print('ready', flush=True)
    done = {}
    for line in sys.stdin:
        cmd, *args = line.rstrip('\n').split('\0')
        if cmd == 'run':
            sys.stdout.flush(); sys.stderr.flush()
            pid = os.fork()
            if pid == 0: child(args[0], args[1], args[2:])
            print(pid, flush=True)
        elif cmd in ('poll', 'wait'):
            pid = int(args[0])
            if pid not in done:
                got, status = os.waitpid(pid, os.WNOHANG if cmd == 'poll' else 0)
                if got: done[pid] = os.waitstatus_to_exitcode(status)
            print(done.get(pid, 'running'), flush=True)
        else: print(f'unknown command {cmd!r}', flush=True)


if __name__ == '__main__': main()
