// TrainCommand.cpp — prints an experiment's run: its lines on stdout, a progress bar on stderr.
#include "TrainCommand.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

namespace snnc::driver {

namespace {

void progress_bar(const TrainProgress &p) {
  const int64_t total = std::max<int64_t>(p.batches, 1);
  const int width = 24, filled = static_cast<int>(width * p.batch / total);
  std::fprintf(stderr, "\r  %s %lld/%lld [%s%s] %3d%% loss %.4f acc %5.2f%% %7.0f samples/s ",
               p.role.c_str(), static_cast<long long>(p.epoch), static_cast<long long>(p.epochs),
               std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
               static_cast<int>(100 * p.batch / total), p.loss, 100 * p.accuracy,
               p.samples_per_second);
  if (p.batch == p.batches) std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

}  // namespace

int run_experiment(const Program &program, const TrainCommandOptions &o) {
  snnc::TrainOptions train = o.train;
  if (!o.quiet) train.on_log = [](const std::string &line) { std::cout << line << std::flush; };
  if (o.progress && !o.quiet && isatty(2)) train.on_progress = progress_bar;
  try {
    program.train(train);
    return 0;
  } catch (const CompileError &e) {
    std::cerr << e.what();
    return 1;
  } catch (const std::exception &e) {
    std::cerr << "snnc: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace snnc::driver
