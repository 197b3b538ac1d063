// The sharded data-parallel update (DataParallelUpdate) against a stand-in for the other process of
// a 2-process group: what that process would add to the sums, report in the extras and send in the
// gathers is fixed in advance, so one process's side of every exchange can be checked exactly.
#include <aigc/aigc.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

using namespace aigc;

namespace data_parallel_test {

/// Process `me` of 2; the other process's gradients, extras and owned values are given.
class OtherProcess : public ProcessGroup {
 public:
  explicit OtherProcess(int me) : me_(me) {}
  int rank() const override { return me_; }
  int size() const override { return 2; }
  void sum(float* data, std::size_t n) override { add(data, n); }
  void sum(double* data, std::size_t n) override { add(data, n); }
  std::pair<std::size_t, std::size_t> owned(std::size_t n) const override {
    return {n * static_cast<std::size_t>(me_) / 2, n * static_cast<std::size_t>(me_ + 1) / 2};
  }
  void sum_owned_pieces(std::span<const std::span<float>> pieces, float scale,
                        std::span<double> extras) override {
    std::size_t at = 0, n = 0;
    for (const std::span<float>& p : pieces) n += p.size();
    const auto [begin, end] = owned(n);
    for (const std::span<float>& p : pieces) {
      for (float& x : p) {
        if (at >= begin && at < end) x = x * scale + other_grads[at];
        ++at;
      }
    }
    REQUIRE(extras.size() == other_extras.size());
    for (std::size_t j = 0; j < extras.size(); ++j) extras[j] += other_extras[j];
    ++owned_sums;
  }
  void gather_pieces(std::span<const std::span<float>> pieces) override {
    std::size_t at = 0, n = 0;
    for (const std::span<float>& p : pieces) n += p.size();
    const auto [begin, end] = owned(n);
    for (const std::span<float>& p : pieces) {
      for (float& x : p) {
        if (at < begin || at >= end) x = other_values[at];
        ++at;
      }
    }
    ++gathers;
  }

  std::vector<float> other_grads, other_values;
  std::vector<double> other_extras;
  int owned_sums = 0, gathers = 0;

 private:
  template <class T>
  [[noreturn]] void add(T*, std::size_t) {
    throw std::logic_error("OtherProcess: a whole sum");
  }
  int me_;
};

struct Net {
  Param<float> a{"a", 3, 4}, b{"b", 1, 5};
  std::vector<Param<float>*> params() { return {&a, &b}; }
  static void fill(Param<float>& p, float value, float grad) {
    p.value.setConstant(value);
    p.grad.setConstant(grad);
  }
};

}  // namespace data_parallel_test

using data_parallel_test::Net;
using data_parallel_test::OtherProcess;

TEST_CASE("DataParallelUpdate: a sharded step updates the owned values from the sums alone",
          "[optim][data_parallel]") {
  for (const int me : {0, 1}) {
    INFO("process " << me);
    Net net, reference;
    for (Net* n : {&net, &reference}) {
      Net::fill(n->a, 0.5f, 0.25f);
      Net::fill(n->b, -1.0f, 2.0f);
    }
    const std::size_t values = 17;  // 12 + 5: the owned halves split a
    OtherProcess group(me);
    group.other_grads.resize(values);
    group.other_values.assign(values, 42.0f);
    for (std::size_t i = 0; i < values; ++i) group.other_grads[i] = 0.125f * static_cast<float>(i);
    group.other_extras = {3.0, 0.0, 0.0};  // the loss, then one slot per process (no bad gradient)
    Adam<float> opt(net.params(), {.lr = 0.1}), whole(reference.params(), {.lr = 0.1});
    detail::DataParallelUpdate<float> update;
    double loss[1] = {1.0};
    update.sum(&group, opt, 0.5f, loss, true, true);
    CHECK(loss[0] == 4.0);
    CHECK(group.owned_sums == 1);
    update.check_finite_grads(opt, "test", 1);
    update.update(opt);
    CHECK(group.gathers == 1);
    CHECK(update.state_spread());

    // The reference: every value updated whole from the same sums.
    std::size_t at = 0;
    for (Param<float>* p : reference.params()) {
      for (Index i = 0; i < p->grad.size(); ++i, ++at)
        p->grad.data()[i] = p->grad.data()[i] * 0.5f + group.other_grads[at];
    }
    whole.step();
    const auto [begin, end] = group.owned(values);
    at = 0;
    std::vector<Param<float>*> mine = net.params(), theirs = reference.params();
    for (std::size_t k = 0; k < mine.size(); ++k) {
      for (Index i = 0; i < mine[k]->value.size(); ++i, ++at) {
        INFO("value " << at);
        if (at >= begin && at < end) {
          CHECK(mine[k]->value.data()[i] == theirs[k]->value.data()[i]);  // the same bits
        } else {
          CHECK(mine[k]->value.data()[i] == 42.0f);  // the owner's, gathered
        }
      }
    }
    CHECK(opt.steps() == 1);

    // The moments: current for the owned values; consolidate_state gathers the rest (each slot).
    update.consolidate_state(opt);
    CHECK(group.gathers == 3);  // the values, then exp_avg and exp_avg_sq
    CHECK_FALSE(update.state_spread());
    CHECK(opt.state()[0].tensor->data()[0] ==
          (me == 0 ? whole.state()[0].tensor->data()[0] : 42.0f));
  }
}

TEST_CASE(
    "DataParallelUpdate: a non-finite gradient on any process stops every process before "
    "the update, naming the parameter and the process",
    "[optim][data_parallel]") {
  Net net;
  Net::fill(net.a, 0.5f, 0.25f);
  Net::fill(net.b, -1.0f, 2.0f);
  Adam<float> opt(net.params(), {.lr = 0.1});
  OtherProcess group(0);
  group.other_grads.assign(17, 0.0f);
  group.other_values.assign(17, 0.0f);
  detail::DataParallelUpdate<float> update;

  SECTION("this process's own gradient") {
    net.b.grad(0, 4) = std::numeric_limits<float>::quiet_NaN();  // not a value it owns
    group.other_extras = {0.0, 0.0};
    update.sum(&group, opt, 1.0f, {}, true, true);
    CHECK_THROWS_AS(update.check_finite_grads(opt, "Trainer", 7), NumericError);
    CHECK_THROWS_WITH(update.check_finite_grads(opt, "Trainer", 7),
                      Catch::Matchers::Contains("step 7") && Catch::Matchers::Contains("'b'") &&
                          Catch::Matchers::Contains("on process 0"));
  }
  SECTION("the other process's") {
    group.other_extras = {0.0, 1.0};  // its first bad parameter: index 0, "a"
    update.sum(&group, opt, 1.0f, {}, true, true);
    CHECK_THROWS_AS(update.check_finite_grads(opt, "Trainer", 7), NumericError);
    CHECK_THROWS_WITH(
        update.check_finite_grads(opt, "Trainer", 7),
        Catch::Matchers::Contains("'a'") && Catch::Matchers::Contains("on process 1"));
  }
  SECTION("without the check, nothing is reported") {
    net.a.grad(0, 0) = std::numeric_limits<float>::infinity();
    group.other_extras = {0.0, 0.0};
    update.sum(&group, opt, 1.0f, {}, true, false);
    CHECK_NOTHROW(update.check_finite_grads(opt, "Trainer", 7));
  }
  CHECK(net.a.value(0, 0) == 0.5f);  // nothing updated
}

TEST_CASE("DataParallelUpdate: a trainer with a sharded update saves only consolidated moments",
          "[optim][data_parallel]") {
  Rng init(1);
  auto enc = make_vae_encoder<float>(16, 8, 2, init);
  auto dec = make_vae_decoder<float>(2, 8, 16, init);
  VaeTrainer<float> trainer(*enc, *dec, {.latent = 2, .seed = 3});
  OtherProcess group(1);
  const std::size_t n = trainer.optimizer().value_count();
  group.other_grads.assign(n, 0.0f);
  group.other_values.assign(n, 0.0f);
  group.other_extras.assign(4, 0.0);  // BCE, KL, one slot per process
  trainer.set_process_group(&group);
  Tensor<float> x(4, 16);
  x.setConstant(0.5f);
  trainer.step(x);
  StateDict s;
  CHECK_THROWS_WITH(trainer.save_state(s), Catch::Matchers::Contains("consolidate_state()"));
  trainer.consolidate_state();
  CHECK_NOTHROW(trainer.save_state(s));

  // With the whole update (or with gradient clipping, whose norm needs every gradient), nothing
  // is spread.
  VaeTrainer<float> clipped(*enc, *dec, {.latent = 2, .seed = 3, .clip_grad_norm = 1.0});
  OtherProcess whole(1);
  clipped.set_process_group(&whole);
  CHECK_THROWS_WITH(clipped.step(x), Catch::Matchers::Contains("a whole sum"));
}
