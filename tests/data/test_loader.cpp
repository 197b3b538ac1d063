#include <aigc/data/loader.hpp>
#include <algorithm>
#include <catch2/catch.hpp>

using namespace aigc;

namespace {
Dataset<float> numbered(Index n) {
  Dataset<float> d;
  d.images.resize(n, 2);
  for (Index i = 0; i < n; ++i) {
    d.images(i, 0) = static_cast<float>(i);
    d.images(i, 1) = -static_cast<float>(i);
    d.labels.push_back(static_cast<int>(i % 10));
  }
  d.num_classes = 10;
  return d;
}

std::vector<int> epoch_ids(BatchLoader<float>& loader, std::vector<Index>* sizes = nullptr) {
  std::vector<int> ids;
  Tensor<float> x;
  std::vector<int> labels;
  while (loader.next(x, &labels)) {
    if (sizes) sizes->push_back(x.rows());
    for (Index r = 0; r < x.rows(); ++r) {
      ids.push_back(static_cast<int>(x(r, 0)));
      CHECK(labels[static_cast<std::size_t>(r)] == static_cast<int>(x(r, 0)) % 10);
    }
  }
  return ids;
}
}  // namespace

TEST_CASE("Loader epochs are permutations, repeat per seed, and change per epoch", "[loader]") {
  const auto data = numbered(103);
  BatchLoader<float> a(data, {.batch_size = 10, .seed = 5});
  BatchLoader<float> b(data, {.batch_size = 10, .seed = 5});
  BatchLoader<float> c(data, {.batch_size = 10, .seed = 6});
  std::vector<Index> sizes;
  const auto e1 = epoch_ids(a, &sizes);
  auto sorted = e1;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 103; ++i) REQUIRE(sorted[static_cast<std::size_t>(i)] == i);
  CHECK(sizes.size() == 11);
  CHECK(sizes.back() == 3);  // the last partial batch is kept
  CHECK(epoch_ids(b) == e1);
  CHECK(epoch_ids(c) != e1);
  const auto e2 = epoch_ids(a);
  CHECK(e2 != e1);
  CHECK(a.epoch() == 2);
}

TEST_CASE("Loader drops the last partial batch on request and seeks exactly", "[loader]") {
  const auto data = numbered(25);
  BatchLoader<float> loader(data, {.batch_size = 8, .drop_last = true, .seed = 1});
  std::vector<Index> sizes;
  const auto ids = epoch_ids(loader, &sizes);
  CHECK(sizes == std::vector<Index>{8, 8, 8});
  CHECK(ids.size() == 24);

  BatchLoader<float> again(data, {.batch_size = 8, .drop_last = true, .seed = 1});
  again.seek(0, 2);
  Tensor<float> x;
  REQUIRE(again.next(x));
  CHECK(static_cast<int>(x(0, 0)) == ids[16]);

  BatchLoader<float> plain(data, {.batch_size = 8, .shuffle = false});
  REQUIRE(plain.next(x));
  CHECK(x(7, 0) == 7.0f);
}

TEST_CASE("Loader rejects bad options", "[loader]") {
  const auto data = numbered(5);
  REQUIRE_THROWS_AS(BatchLoader<float>(data, {.batch_size = 0}), ArgumentError);
  REQUIRE_THROWS_AS(BatchLoader<float>(data, {.batch_size = 8, .drop_last = true}), ArgumentError);
  Dataset<float> empty;
  REQUIRE_THROWS_AS(BatchLoader<float>(empty, {.batch_size = 8}), ArgumentError);
}
