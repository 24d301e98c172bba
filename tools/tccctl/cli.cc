#include "tools/tccctl/cli.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/build_info/build_info.h"
#include "tcc/common/status_macros.h"
#include "tools/tccctl/arguments.h"
#include "tools/tccctl/commands.h"
#include "tools/tccctl/format.h"
#include "tools/tccctl/help_text.h"
#include "tools/tccctl/states.h"

namespace tcc::tccctl {
namespace {

constexpr char kCommands[] = "list, show, retry, resolve, stats";

struct Subcommands {
  CLI::App* list;
  CLI::App* show;
  CLI::App* retry;
  CLI::App* resolve;
  CLI::App* stats;
};

void AddGlobalOptions(CLI::App& app, Arguments& args, const Environment& env) {
  args.addr = env.tcc_addr.empty() ? kDefaultAddress : env.tcc_addr;
  app.add_option("--addr", args.addr,
                 "Coordinator (tccd) address, host:port. Default: $TCC_ADDR, else " +
                     std::string(kDefaultAddress))
      ->type_name("HOST:PORT");
  args.tls_ca = env.tls_ca;
  args.tls_cert = env.tls_cert;
  args.tls_key = env.tls_key;
  app.add_option("--tls-ca", args.tls_ca,
                 "TLS: CA bundle (PEM) that tccd's certificate must chain to. Default: $TCC_TLS_CA")
      ->type_name("FILE");
  app.add_option("--tls-cert", args.tls_cert,
                 "Mutual TLS: your client certificate (PEM). Default: $TCC_TLS_CERT")
      ->type_name("FILE");
  app.add_option("--tls-key", args.tls_key,
                 "Mutual TLS: the key of --tls-cert (PEM). Default: $TCC_TLS_KEY")
      ->type_name("FILE");
  args.token = env.token;
  args.token_file = env.token_file;
  app.add_option("--token", args.token,
                 "Bearer token for a tccd with --auth_file (seen by other local users in the "
                 "process list: prefer $TCC_TOKEN or --token-file). Default: $TCC_TOKEN")
      ->type_name("TOKEN");
  app.add_option("--token-file", args.token_file,
                 "File holding the bearer token. Default: $TCC_TOKEN_FILE")
      ->type_name("FILE");
  app.add_flag("--json", args.json,
               "Print one JSON document instead of tables (fields: tools/tccctl/README.md)");
  app.add_option("--timeout", args.timeout, "Deadline of each call to tccd, in seconds (default 5)")
      ->type_name("SECONDS");
}

std::string StateHelp() {
  return absl::StrCat("Only this state; repeat or comma-separate for several: ",
                      ValidTransactionStateNames(), " (any case, '-' or '_')");
}

CLI::App* AddList(CLI::App& app, Arguments& args) {
  CLI::App* list = app.add_subcommand("list", kListDescription);
  list->add_option("--state", args.states, StateHelp())->type_name("STATE")->delimiter(',');
  list->add_flag("--stuck", args.stuck, kStuckHelp);
  list->add_option("--older-than", args.older_than, kOlderThanHelp)->type_name("DURATION");
  list->add_option("--gid-prefix", args.gid_prefix, "Only gids starting with P")->type_name("P");
  list->add_option("--target", args.target, "Only transactions with a branch on this participant")
      ->type_name("HOST:PORT");
  list->add_flag("--oldest-first", args.oldest_first, "Oldest first (default: newest first)");
  list->add_option(
          "--limit", args.limit,
          absl::StrCat("Page size, 1..", kMaxPageSize, " (default ", kDefaultPageSize, ")"))
      ->type_name("N");
  list->add_option("--page-token", args.page_token,
                   "Continue where a previous page ended (the token it printed)")
      ->type_name("T");
  list->add_flag("--all", args.all, "Fetch every page, not just the first");
  list->footer(kListFooter);
  return list;
}

CLI::App* AddShow(CLI::App& app, Arguments& args) {
  CLI::App* show = app.add_subcommand("show", kShowDescription);
  show->add_option("gid", args.gid, "The transaction's gid")->required()->type_name("GID");
  show->footer(kShowFooter);
  return show;
}

void AddOperator(CLI::App& sub, Arguments& args) {
  sub.add_option("--operator", args.operator_name,
                 "Your name, recorded in the timeline (default: $USER) when tccd checks no "
                 "credentials; with tccd --auth_file the timeline names your token or "
                 "certificate's caller instead")
      ->type_name("NAME");
}

CLI::App* AddRetry(CLI::App& app, Arguments& args) {
  CLI::App* retry = app.add_subcommand("retry", kRetryDescription);
  retry->add_option("gid", args.gid, "Retry this transaction")->type_name("GID");
  retry
      ->add_option("--target", args.target,
                   "Retry every unfinished transaction with a failing branch on this participant")
      ->type_name("HOST:PORT");
  AddOperator(*retry, args);
  retry->footer(kRetryFooter);
  return retry;
}

CLI::App* AddResolve(CLI::App& app, Arguments& args) {
  CLI::App* resolve = app.add_subcommand("resolve", kResolveDescription);
  resolve->add_option("gid", args.gid, "The transaction to resolve")->required()->type_name("GID");
  resolve->add_flag("--commit", args.commit, "Confirm every branch (TRYING or COMMITTING)");
  resolve->add_flag("--rollback", args.rollback, "Cancel every branch (TRYING or ROLLING_BACK)");
  resolve->add_flag("--mark-committed", args.mark_committed,
                    "Record COMMITTED; call no participant");
  resolve->add_flag("--mark-rolled-back", args.mark_rolled_back,
                    "Record ROLLED_BACK; call no participant");
  resolve->add_option("--reason", args.reason, "Why (required; shown in the timeline)")
      ->type_name("TEXT");
  AddOperator(*resolve, args);
  resolve->footer(kResolveFooter);
  return resolve;
}

CLI::App* AddStats(CLI::App& app) {
  CLI::App* stats = app.add_subcommand("stats", kStatsDescription);
  stats->footer(kStatsFooter);
  return stats;
}

std::string DefaultOperator(const Environment& env) {
  return env.user.empty() ? "unknown" : env.user;
}

// A command ready to run: the Admin call(s) bound to validated arguments.
using Command = std::function<absl::Status(AdminApi&, const Output&)>;

absl::StatusOr<Command> BuildCommand(const Subcommands& subs, const Arguments& args,
                                     const Environment& env) {
  if (subs.list->parsed()) {
    TCC_ASSIGN_OR_RETURN(ListOptions options, BuildList(args));
    return Command(
        [options](AdminApi& admin, const Output& out) { return RunList(admin, options, out); });
  }
  if (subs.show->parsed()) {
    TCC_RETURN_IF_ERROR(CheckGid(args.gid));
    return Command(
        [gid = args.gid](AdminApi& admin, const Output& out) { return RunShow(admin, gid, out); });
  }
  if (subs.retry->parsed()) {
    TCC_ASSIGN_OR_RETURN(v1::RetryNowRequest request, BuildRetry(args, DefaultOperator(env)));
    return Command(
        [request](AdminApi& admin, const Output& out) { return RunRetry(admin, request, out); });
  }
  if (subs.resolve->parsed()) {
    TCC_ASSIGN_OR_RETURN(v1::ResolveRequest request, BuildResolve(args, DefaultOperator(env)));
    return Command(
        [request](AdminApi& admin, const Output& out) { return RunResolve(admin, request, out); });
  }
  return Command([](AdminApi& admin, const Output& out) { return RunStats(admin, out); });
}

std::string SelectedName(const CLI::App& app) {
  std::vector<CLI::App*> selected = app.get_subcommands();
  return selected.empty() ? "" : selected.front()->get_name() + " ";
}

int UsageError(const std::string& message, const CLI::App& app, const Environment& env) {
  *env.err << "tccctl: " << OneLine(message) << "; see tccctl " << SelectedName(app) << "--help\n";
  return kExitUsage;
}

// CLI11 reports a mistyped command as a missing one; name what was typed.
std::string MissingCommandMessage(int argc, const char* const argv[]) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--addr" || arg == "--timeout" || arg == "--tls-ca" || arg == "--tls-cert" ||
        arg == "--tls-key" || arg == "--token" || arg == "--token-file") {
      ++i;  // Skip the option's value.
    } else if (!arg.empty() && arg[0] != '-') {
      return absl::StrCat("unknown command \"", arg, "\" (commands: ", kCommands, ")");
    }
  }
  return absl::StrCat("missing command (commands: ", kCommands, ")");
}

// "stats takes no arguments", "show takes one GID": from the command's
// positionals, so a new one is described without a change here.
std::string WhatItTakes(const CLI::App& command) {
  std::vector<const CLI::Option*> positionals =
      command.get_options([](const CLI::Option* option) { return option->get_positional(); });
  if (positionals.empty()) return absl::StrCat(command.get_name(), " takes no arguments");
  return absl::StrCat(command.get_name(), " takes one ", positionals.front()->get_type_name());
}

// CLI11 says "The following argument was not expected: x" both for an
// unknown option and for a surplus argument; tell them apart and say what
// the command takes.
std::string ExtrasMessage(const CLI::App& app) {
  std::vector<std::string> extras = app.remaining(true);
  for (const std::string& extra : extras) {
    if (extra.size() > 1 && extra[0] == '-') return absl::StrCat("unknown option \"", extra, "\"");
  }
  std::vector<CLI::App*> selected = app.get_subcommands();
  std::string takes =
      selected.empty() ? "tccctl takes a command first" : WhatItTakes(*selected.front());
  return absl::StrCat(extras.size() == 1 ? "unexpected argument \"" : "unexpected arguments \"",
                      absl::StrJoin(extras, " "), "\": ", takes);
}

Output MakeOutput(const Arguments& args, const Environment& env) {
  Output output;
  output.out = env.out;
  output.err = env.err;
  output.json = args.json;
  output.color = env.color && !args.json;
  output.width = env.width;
  output.now = env.now;
  output.zone = env.zone;
  return output;
}

std::string GetEnv(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

// Over TLS "cannot reach" is often a refused handshake, not a tccd that is
// down: say what to check.
std::string FailureMessage(const absl::Status& status, const Arguments& args,
                           const TlsOptions& tls) {
  if (!tls.enabled() || !IsUnreachable(status)) return ErrorMessage(status, args.addr, args.gid);
  return absl::StrCat("cannot reach the coordinator at ", args.addr,
                      " over TLS (is tccd running? does --tls-ca hold the CA of its certificate, "
                      "and does it accept your --tls-cert?)");
}

}  // namespace

Environment ProcessEnvironment() {
  Environment env;
  env.out = &std::cout;
  env.err = &std::cerr;
  env.tcc_addr = GetEnv("TCC_ADDR");
  env.tls_ca = GetEnv("TCC_TLS_CA");
  env.tls_cert = GetEnv("TCC_TLS_CERT");
  env.tls_key = GetEnv("TCC_TLS_KEY");
  env.token = GetEnv("TCC_TOKEN");
  env.token_file = GetEnv("TCC_TOKEN_FILE");
  env.user = GetEnv("USER");
  bool tty = isatty(STDOUT_FILENO) == 1;
  env.color = tty && std::getenv("NO_COLOR") == nullptr;
  winsize size{};
  if (tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0) env.width = size.ws_col;
  env.now = absl::Now();
  env.zone = absl::LocalTimeZone();
  env.connect = MakeGrpcAdmin;
  return env;
}

int RunCli(int argc, const char* const argv[], const Environment& env) {
  CLI::App app(kAppDescription, "tccctl");
  app.require_subcommand(1);
  app.fallthrough();
  app.get_formatter()->column_width(34);
  app.set_version_flag("--version", build_info::VersionLine("tccctl"),
                       "Print the version and the git commit of this build, and exit");
  Arguments args;
  AddGlobalOptions(app, args, env);
  Subcommands subs{AddList(app, args), AddShow(app, args), AddRetry(app, args),
                   AddResolve(app, args), AddStats(app)};
  app.footer(kAppFooter);  // After the subcommands: CLI11 copies a footer into later ones.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ExtrasError&) {  // Its get_name() is the command's, so catch it by type.
    return UsageError(ExtrasMessage(app), app, env);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e, *env.out, *env.err);  // --help, --version
    if (e.get_name() == "RequiredError" && app.get_subcommands().empty()) {
      return UsageError(MissingCommandMessage(argc, argv), app, env);
    }
    return UsageError(e.what(), app, env);
  }
  absl::StatusOr<absl::Duration> timeout = ParseTimeout(args.timeout);
  absl::Status address = CheckAddress(args.addr);
  absl::StatusOr<Command> command = BuildCommand(subs, args, env);
  absl::StatusOr<TlsOptions> tls = BuildTls(args);
  absl::StatusOr<std::string> token = BuildToken(args);
  for (const absl::Status& status :
       {timeout.status(), address, tls.status(), token.status(), command.status()}) {
    if (!status.ok()) return UsageError(std::string(status.message()), app, env);
  }
  absl::StatusOr<std::unique_ptr<AdminApi>> admin = env.connect(args.addr, *timeout, *tls, *token);
  if (!admin.ok()) return UsageError(std::string(admin.status().message()), app, env);
  absl::Status status = (*command)(**admin, MakeOutput(args, env));
  if (status.ok()) return kExitOk;
  *env.err << "tccctl: " << FailureMessage(status, args, *tls) << "\n";
  return kExitFailed;
}

}  // namespace tcc::tccctl
