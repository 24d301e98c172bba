// tccctl: the operator CLI of tccd (see tools/tccctl/README.md).
#include "tools/tccctl/cli.h"

int main(int argc, char** argv) {
  return tcc::tccctl::RunCli(argc, argv, tcc::tccctl::ProcessEnvironment());
}
