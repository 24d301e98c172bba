// tcc_sim: the deterministic simulator (tests/sim/sim_cli.h).
#include "tests/sim/sim_cli.h"

int main(int argc, char** argv) { return tcc::sim::SimMain(argc, argv); }
