// What every process of the example needs around its main(): a clean stop on
// SIGTERM / SIGINT, a port file for the launcher, logging, and gRPC channels
// that reconnect quickly to a peer that was restarted (the default reconnect
// backoff grows to minutes, far too slow for a service that is back after a
// crash within a second).
//
// Thread-safety: BlockStopSignals must run in main before any thread starts;
// the rest may be called from any thread.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "tcc/common/tls.h"

namespace pointspay {

// Blocks SIGTERM and SIGINT here and in every thread created afterwards, so
// that WaitForStopSignal is the only place they are received.
void BlockStopSignals();
// Debian's Abseil is a debug build: its Mutex records every lock in a global
// graph to detect deadlocks (~3% of a service's CPU under load). Call at the
// top of main, as tccd does.
void DisableMutexDeadlockDetection();
// Waits for SIGTERM or SIGINT; returns the signal number.
int WaitForStopSignal();

// Writes the port to `path` atomically (a temp file, then rename), so that a
// reader never sees a partial number. Nothing when `path` is empty.
absl::Status WritePortFile(const std::string& path, int port);

// Logs to stderr with the service's name; `level` as spdlog ("info", ...).
void SetUpLogging(const std::string& service, const std::string& level);

// A channel with a short reconnect backoff (100 ms .. 1 s); plaintext by
// default. A target listing several servers, "ipv4:H:P1,H:P2,...", spreads
// its calls over them round-robin (gRPC's round_robin policy: each call
// goes to the next server that is up), all on one host H.
std::shared_ptr<grpc::Channel> MakeChannel(
    const std::string& target,
    std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials());

// --tls_dir: the launcher's throwaway PKI (cluster.h), DIR/ca.pem and
// DIR/<name>.pem|.key. As a server, mutual TLS: every caller's certificate
// must chain to ca.pem; as a client, tccd's too. Empty `dir`: plaintext
// (TlsOptions not enabled).
tcc::TlsOptions ServerTls(const std::string& dir, const std::string& name);
tcc::TlsOptions ClientTls(const std::string& dir, const std::string& name);

}  // namespace pointspay
