/**
 * Sums a callgrind dump's instructions into buckets, so runs of two builds under the same load
 * compare by what each request costs rather than by when V8 happened to compile or collect:
 * compile (TurboFan, Maglev, Sparkplug, the parser), gc (marking, sweeping, evacuation), sqlite,
 * jit (JIT-compiled JavaScript, which valgrind cannot name) and other (builtins, the runtime,
 * libc, node). Usage: node bench/callgrind-buckets.mjs <callgrind.out>… [--requests N]
 */
import { execFileSync } from 'node:child_process';

const COMPILE =
  /v8::internal::(compiler|maglev|baseline)|Turbofan|Maglev|Sparkplug|v8::internal::interpreter::Bytecode(Generator|ArrayBuilder)|v8::internal::Parser|v8::internal::Scanner|Compiler::|OptimizedCompilationJob|CodeGenerator|RegisterAllocat|InstructionSelector/;
const GC =
  /Mark|Sweep|Scaveng|Evacuat|Heap::|heap::|GC|RelocIterator|__popcountdi2|Remembered|Slot|IncrementalMarking|Compactor|MemoryChunk|PagedSpace|FreeList|ActiveSystemPages|IterateObjectCache|MigrateObject|Visitor|IteratePointers|SizeFromMap/;

function bucketOf(fn) {
  if (COMPILE.test(fn)) return 'compile';
  if (GC.test(fn)) return 'gc';
  if (/sqlite3/.test(fn)) return 'sqlite';
  if (/^\?\?\?:0x/.test(fn)) return 'jit';
  return 'other';
}

const args = process.argv.slice(2);
const at = args.indexOf('--requests');
const requests = at >= 0 ? Number(args.splice(at, 2)[1]) : 1;
for (const file of args) {
  const text = execFileSync('callgrind_annotate', ['--threshold=100', '--auto=no', file], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const sums = { compile: 0, gc: 0, sqlite: 0, jit: 0, other: 0 };
  for (const line of text.split('\n')) {
    const m = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line);
    if (!m || line.includes('PROGRAM TOTALS')) continue;
    sums[bucketOf(m[2])] += Number(m[1].replaceAll(',', ''));
  }
  const work = sums.jit + sums.other + sums.sqlite;
  const per = (n) => Math.round(n / requests / 1000);
  console.log(
    `${file}: per request (thousands of instructions): work ${per(work)} (jit ${per(sums.jit)}, other ${per(sums.other)}, sqlite ${per(sums.sqlite)}), gc ${per(sums.gc)}, compile ${per(sums.compile)}`,
  );
}
