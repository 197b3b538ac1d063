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

namespace {
// n images of 3 x 5 x 7 bytes, each byte distinct within an image, labels i % 4.
ByteDataset loader_test_bytes(Index n, PixelScale scale = PixelScale::unit) {
  ByteDataset d;
  d.count = n;
  d.channels = 3;
  d.height = 5;
  d.width = 7;
  d.num_classes = 4;
  d.scale = scale;
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < d.features(); ++j)
      d.pixels.push_back(static_cast<std::uint8_t>((i * 7 + j * 3) % 256));
    d.labels.push_back(static_cast<int>(i % 4));
  }
  return d;
}
}  // namespace

TEST_CASE("Loader over bytes gives the batches of the same data as values", "[loader]") {
  for (PixelScale scale : {PixelScale::unit, PixelScale::symmetric}) {
    const ByteDataset bytes = loader_test_bytes(37, scale);
    const Dataset<float> values = to_dataset<float>(bytes);
    for (bool augment : {false, true}) {
      LoaderOptions o{.batch_size = 8, .seed = 3};
      if (augment) o.augment = {.flip = true, .translate = 2};
      BatchLoader<float> a(bytes, o), b(values, o);
      Tensor<float> xa, xb;
      std::vector<int> la, lb;
      for (int step = 0; step < 12; ++step) {
        const bool more = a.next(xa, &la);
        REQUIRE(more == b.next(xb, &lb));
        if (!more) continue;
        CHECK(xa == xb);  // bitwise
        CHECK(la == lb);
      }
    }
  }
  const Dataset<double> d = to_dataset<double>(loader_test_bytes(2, PixelScale::symmetric));
  CHECK(d.images(0, 0) == -1.0);
  CHECK(d.images(1, 0) == 7.0 * 2.0 / 255.0 - 1.0);
}

TEST_CASE("Loader augmentation flips and shifts with reflection, seeded by position", "[loader]") {
  const ByteDataset bytes = loader_test_bytes(64);
  const Dataset<float> values = to_dataset<float>(bytes);
  LoaderOptions o{.batch_size = 64, .shuffle = false, .seed = 11};
  o.augment = {.flip = true, .translate = 2};
  BatchLoader<float> loader(bytes, o);
  Tensor<float> x;
  REQUIRE(loader.next(x));
  // Each image is its source flipped or not and moved by (dx, dy) in [-2, 2]: find which.
  std::vector<int> flips, shifts;
  auto reflect = [](Index i, Index n) { return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i; };
  for (Index r = 0; r < 64; ++r) {
    int found = 0;
    for (int flip = 0; flip < 2; ++flip) {
      for (int dy = -2; dy <= 2; ++dy) {
        for (int dx = -2; dx <= 2; ++dx) {
          bool same = true;
          for (Index c = 0; c < 3 && same; ++c)
            for (Index y = 0; y < 5 && same; ++y)
              for (Index xx = 0; xx < 7 && same; ++xx) {
                Index sx = reflect(xx - dx, 7);
                if (flip) sx = 6 - sx;
                same = x(r, (c * 5 + y) * 7 + xx) ==
                       values.images(r, (c * 5 + reflect(y - dy, 5)) * 7 + sx);
              }
          if (same) {
            ++found;
            flips.push_back(flip);
            shifts.push_back(dx * 10 + dy);
          }
        }
      }
    }
    CHECK(found == 1);
  }
  // Both flips and several shifts occur.
  CHECK(std::count(flips.begin(), flips.end(), 1) > 10);
  CHECK(std::count(flips.begin(), flips.end(), 0) > 10);
  std::sort(shifts.begin(), shifts.end());
  CHECK(std::unique(shifts.begin(), shifts.end()) - shifts.begin() > 15);
  // The next epoch draws anew; a loader that seeks back repeats a batch bitwise.
  Tensor<float> epoch0 = x, again;
  REQUIRE_FALSE(loader.next(x));
  REQUIRE(loader.next(x));
  CHECK(x != epoch0);
  loader.seek(0, 0);
  REQUIRE(loader.next(again));
  CHECK(again == epoch0);
  // Bad options.
  o.augment.translate = 5;
  REQUIRE_THROWS_WITH(BatchLoader<float>(bytes, o),
                      Catch::Contains("translate must be in [0, 5) for 5x7 images, got 5"));
  o.augment.translate = 1;
  REQUIRE_THROWS_WITH(BatchLoader<float>(numbered(10), o),
                      Catch::Contains("augmentation needs the images' shape"));
}

TEST_CASE("Loader state: augmentation saved, resumed bitwise, mismatch refused", "[loader]") {
  const ByteDataset bytes = loader_test_bytes(50);
  LoaderOptions o{.batch_size = 8, .seed = 2};
  o.augment = {.flip = true, .translate = 1};
  BatchLoader<float> a(bytes, o);
  Tensor<float> x;
  for (int i = 0; i < 9; ++i) a.next(x);  // into epoch 1
  StateDict s;
  save_loader(s, a);
  Tensor<float> want;
  a.next(want);
  BatchLoader<float> b(bytes, o);
  load_loader(s, b);
  b.next(x);
  CHECK(x == want);
  LoaderOptions other = o;
  other.augment.flip = false;
  BatchLoader<float> c(bytes, other);
  REQUIRE_THROWS_WITH(load_loader(s, c),
                      Catch::Contains("augment_flip was 1 when saved but is 0 now"));
  other = o;
  other.augment.translate = 2;
  BatchLoader<float> e(bytes, other);
  REQUIRE_THROWS_WITH(load_loader(s, e),
                      Catch::Contains("augment_translate was 1 when saved but is 2 now"));
  // A checkpoint of a loader without augmentation entries (written before they existed).
  StateDict old;
  BatchLoader<float> plain(bytes, {.batch_size = 8, .seed = 2});
  save_loader(old, plain);
  StateDict stripped;
  for (const StateEntry& entry : old.entries())
    if (entry.name.find("augment") == std::string::npos) stripped.put(entry);
  load_loader(stripped, plain);
  REQUIRE_THROWS_WITH(load_loader(stripped, b), Catch::Contains("augment_flip was 0"));
}
