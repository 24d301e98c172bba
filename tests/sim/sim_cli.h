// tcc_sim's command line: --seed S replays one run (--trace prints its
// schedule), --seeds N runs seeds --first .. --first+N-1 and stops at the
// first that breaks an invariant, printing it and how to replay it.
// --plant switches a guarantee off in the simulated components, to watch
// the checker catch it. Exit code: 0 when every run kept every invariant,
// 1 on a violation, 2 on bad flags.
#pragma once

namespace tcc::sim {

int SimMain(int argc, char** argv);

}  // namespace tcc::sim
