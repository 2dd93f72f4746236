// Shared inversion flags and the staged output directory (see invert_options.h).
#include "tools/invert_options.h"

#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "tools/cli_util.h"

namespace fs = std::filesystem;

namespace tumorforge::cli {

void add_checkpoint_options(CLI::App* cmd, std::string& surrogate, std::string& inverse) {
  surrogate = default_checkpoint("surrogate_dev.h5");
  inverse = default_checkpoint("inverse_dev.h5");
  cmd->add_option("--surrogate", surrogate, "surrogate bundle (.h5)")->capture_default_str();
  cmd->add_option("--inverse", inverse, "inverse-net bundle (.h5); needed by direct and hybrid")->capture_default_str();
}

void add_fit_options(CLI::App* cmd, invert::InvertConfig& c, std::string& theta0) {
  auto* g = cmd->add_option_group("method", "how the parameters are estimated");
  g->add_option("--select-by", c.select_by, "hybrid: keep θ_DI or θ_GB by their solver runs (solver, the paper's protocol: each\n"
                "branch is polished and the closer final run kept) or by the surrogate's loss (surrogate: one\n"
                "polish, no selection runs)")->capture_default_str();
  g->add_option("--origin", c.fit.origin,
                "where the seed comes from: fitted (estimated with mu_D, mu_rho) | com (the paper's COM origin: fit\n"
                "freely, final solver run with the seed at the target's centre of mass) | auto (both: every estimate\n"
                "with its fitted seed and with the centre of mass, one solver run each, the closest kept) | com-refit\n"
                "(seed fixed at the centre of mass, only mu_D, mu_rho fitted)")->capture_default_str();
  g->add_flag_callback("--com-origin", [&c] { c.fit.origin = "com"; }, "shorthand for --origin com");
  g->add_option("--theta0", theta0, "start of gb / CMA-ES as five normalized values x,y,z,mu_d,mu_rho in [-1, 1] "
                "(default: the training set's mean stored in the surrogate bundle)");
  g->add_option("--max-evaluations", c.fit.max_evaluations, "gb: surrogate evaluations (forward + backward) at most; "
                "the time budget")->capture_default_str();
  g->add_option("--inner-iterations", c.fit.inner_iterations, "gb: L-BFGS iterations per outer step (paper: 20)")->capture_default_str();
  g->add_option("--max-iterations", c.fit.max_iterations, "gb: outer L-BFGS steps at most (paper: 1000)")->capture_default_str();
  g->add_option("--tolerance", c.fit.tolerance, "gb: stop when the loss changes by less than this fraction of itself ...")->capture_default_str();
  g->add_option("--patience", c.fit.patience, "gb: ... for this many outer steps in a row")->capture_default_str();
  g->add_option("--cmaes-sigma", c.fit.cmaes_sigma, "CMA-ES initial step, normalized θ")->capture_default_str();
  g->add_option("--cmaes-population", c.fit.cmaes_population, "CMA-ES population (0: 4 + 3 ln n)")->capture_default_str();
  g->add_option("--cmaes-max-evaluations", c.fit.cmaes_max_evaluations, "CMA-ES budget of loss evaluations")->capture_default_str();
  g->add_option("--seed", c.fit.seed, "CMA-ES random seed")->capture_default_str();
  g->add_option("--polish-runs", c.polish.max_runs,
                "the last step of every method: a local compass search with the numerical solver around the kept\n"
                "θ, this many solver runs at most (10 side by side per poll); kept only if the final run agrees.\n"
                "0: no polish, the paper's protocol")->capture_default_str();
  g->add_option("--polish-spacing", c.polish.spacing_mm, "polish on a block-averaged copy at least this coarse, mm "
                "(a 1 mm run costs ~15x a 2 mm one)")->capture_default_str();
  auto* s = cmd->add_option_group("segmentation", "loss for --segmentation targets (see invert/README.md)");
  s->add_option("--seg-loss", c.fit.objective.seg_loss, "dice | bce")->capture_default_str();
  s->add_option("--tau-core", c.fit.objective.tau_core, "tumor core = concentration above this")->capture_default_str();
  s->add_option("--tau-edema", c.fit.objective.tau_edema, "visible tumor (edema included) = concentration above this")->capture_default_str();
}

void finish_fit_options(invert::InvertConfig& c, const std::string& theta0) {
  if (!theta0.empty()) {
    std::vector<double> v;
    std::stringstream in(theta0);
    std::string item;
    while (std::getline(in, item, ',')) {
      try {
        size_t used = 0;
        v.push_back(std::stod(item, &used));
        if (used != item.size()) throw std::invalid_argument("");
      } catch (const std::exception&) {
        throw std::invalid_argument("--theta0 '" + theta0 + "': expected five comma-separated numbers");
      }
    }
    if (v.size() != 5) throw std::invalid_argument("--theta0 '" + theta0 + "': expected five comma-separated numbers");
    invert::Theta t{};
    std::copy(v.begin(), v.end(), t.begin());
    c.theta0 = t;
  }
  c.validate();
}

}  // namespace tumorforge::cli
