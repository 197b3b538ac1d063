#include <signal.h>
#include <sys/resource.h>

#include <aigc/io/checkpoint.hpp>
#include <aigc/layers/batchnorm.hpp>
#include <aigc/layers/dense.hpp>
#include <aigc/layers/sequential.hpp>
#include <aigc/models/dcgan.hpp>
#include <aigc/optim/adam.hpp>
#include <catch2/catch.hpp>
#include <filesystem>

#include "support/idx_files.hpp"

using namespace aigc;

namespace {

StateDict small_state() {
  StateDict s;
  Tensor<float> w(2, 3);
  w << 1, 2, 3, 4, 5, -6.5f;
  s.put_tensor("param/fc.weight", w);
  Tensor<double> b(1, 2);
  b << 0.25, -1e300;
  s.put_tensor("param/fc.bias", b);
  s.put_int("train/step", -42);
  s.put_u64("loader/seed", 0xFFFFFFFFFFFFFFFFULL);
  return s;
}

bool same(const StateDict& a, const StateDict& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const StateEntry &x = a.entries()[i], &y = b.entries()[i];
    if (x.name != y.name || x.dtype != y.dtype || x.rows != y.rows || x.cols != y.cols ||
        x.bytes != y.bytes) {
      return false;
    }
  }
  return true;
}

std::unique_ptr<Sequential<float>> mlp(Index in, Index hidden, Index out, std::uint64_t seed) {
  Rng rng(seed);
  auto net = std::make_unique<Sequential<float>>();
  net->set_name("net");
  net->emplace<Dense<float>>("fc1", in, hidden, rng);
  net->emplace<Dense<float>>("fc2", hidden, out, rng);
  return net;
}

}  // namespace

TEST_CASE("Checkpoints round-trip every entry bit for bit", "[checkpoint]") {
  test::TempDir dir("ckpt-roundtrip");
  const StateDict s = small_state();
  const std::string path = dir / "a.aigc";
  write_checkpoint(path, s);
  const StateDict back = read_checkpoint(path);
  CHECK(same(s, back));
  CHECK(back.get_int("train/step") == -42);
  CHECK(back.get_u64("loader/seed") == 0xFFFFFFFFFFFFFFFFULL);
  Tensor<double> b(1, 2);
  back.get_tensor("param/fc.bias", b);
  CHECK(b(0, 1) == -1e300);
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  // The layout of docs/checkpoint-format.md: magic, version 1, payload length, little-endian.
  const auto bytes = test::read_file(path);
  REQUIRE(bytes.size() > 32);
  CHECK(std::string(bytes.begin(), bytes.begin() + 8) == "AIGCCKPT");
  CHECK(bytes[8] == 1);
  CHECK(bytes[9] == 0);
  std::uint64_t len = 0;
  for (int i = 0; i < 8; ++i) len |= std::uint64_t{bytes[16 + i]} << (8 * i);
  CHECK(len == bytes.size() - 32);
}

TEST_CASE("Every truncation and every flipped byte of a checkpoint is rejected", "[checkpoint]") {
  const auto good = serialize_checkpoint(small_state());
  REQUIRE_NOTHROW(parse_checkpoint(good.data(), good.size(), "mem"));
  for (std::size_t n = 0; n < good.size(); ++n) {
    INFO("truncated to " << n << " bytes");
    REQUIRE_THROWS_AS(parse_checkpoint(good.data(), n, "short.aigc"), FileError);
    REQUIRE_THROWS_WITH(parse_checkpoint(good.data(), n, "short.aigc"),
                        Catch::Contains("short.aigc"));
  }
  for (std::size_t i = 0; i < good.size(); ++i) {
    auto bad = good;
    bad[i] ^= 0x10;
    INFO("byte " << i << " flipped");
    REQUIRE_THROWS_AS(parse_checkpoint(bad.data(), bad.size(), "flip.aigc"), FileError);
  }
  auto longer = good;
  longer.push_back(0);
  REQUIRE_THROWS_WITH(parse_checkpoint(longer.data(), longer.size(), "long.aigc"),
                      Catch::Contains("long.aigc") && Catch::Contains("announces"));
}

TEST_CASE("A checkpoint whose sizes lie, with a valid CRC, is rejected without allocating",
          "[checkpoint]") {
  // Re-encode a payload with hostile sizes and a correct CRC, so that only the bounds checks stand
  // between the file and a huge allocation.
  auto forge = [](std::uint32_t count, std::uint32_t name_len, std::uint8_t dtype,
                  std::uint64_t rows, std::uint64_t cols) {
    std::vector<std::uint8_t> payload;
    detail::append<std::uint32_t>(payload, count);
    detail::append<std::uint32_t>(payload, name_len);
    for (char c : std::string("x")) payload.push_back(static_cast<std::uint8_t>(c));
    detail::append<std::uint8_t>(payload, dtype);
    detail::append<std::uint64_t>(payload, rows);
    detail::append<std::uint64_t>(payload, cols);
    for (int i = 0; i < 16; ++i) payload.push_back(0);
    std::vector<std::uint8_t> out(checkpoint_magic, checkpoint_magic + 8);
    detail::append<std::uint32_t>(out, checkpoint_version);
    detail::append<std::uint32_t>(out, 0);
    detail::append<std::uint64_t>(out, payload.size());
    detail::append<std::uint32_t>(out, detail::crc32_of(payload.data(), payload.size()));
    detail::append<std::uint32_t>(out, 0);
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
  };
  struct Case {
    std::vector<std::uint8_t> bytes;
    const char* why;
  };
  const std::vector<Case> cases = {
      {forge(1, 1, 1, 1, 4), ""},  // the good one: 16 bytes of f32
      {forge(1, 1, 1, 1ULL << 62, 1ULL << 62), "needs more than"},
      {forge(1, 1, 2, 1ULL << 61, 1), "needs more than"},
      {forge(1, 1, 1, 0xFFFFFFFFFFFFFFFFULL, 0xFFFFFFFFFFFFFFFFULL), "needs more than"},
      {forge(1, 1, 1, 1, 5), "needs more than"},
      {forge(0xFFFFFFFFu, 1, 1, 1, 4), "truncated"},
      {forge(1, 0xFFFFFFFFu, 1, 1, 4), "name of"},
      {forge(1, 1, 9, 1, 4), "unknown type code 9"},
      {forge(1, 1, 1, 1, 3), "bytes after the last entry"},
  };
  REQUIRE_NOTHROW(parse_checkpoint(cases[0].bytes.data(), cases[0].bytes.size(), "forged"));
  for (std::size_t i = 1; i < cases.size(); ++i) {
    INFO("case " << i);
    REQUIRE_THROWS_WITH(
        parse_checkpoint(cases[i].bytes.data(), cases[i].bytes.size(), "forged.aigc"),
        Catch::Contains("forged.aigc") && Catch::Contains(cases[i].why));
  }
  auto bad_version = forge(1, 1, 1, 1, 4);
  bad_version[8] = 2;
  REQUIRE_THROWS_WITH(parse_checkpoint(bad_version.data(), bad_version.size(), "v2.aigc"),
                      Catch::Contains("version 2 is not supported"));
  auto bad_magic = forge(1, 1, 1, 1, 4);
  bad_magic[0] = 'X';
  REQUIRE_THROWS_WITH(parse_checkpoint(bad_magic.data(), bad_magic.size(), "m.aigc"),
                      Catch::Contains("not an aigc checkpoint"));
}

TEST_CASE("Loading names the parameter and both shapes on a mismatch", "[checkpoint]") {
  test::TempDir dir("ckpt-shapes");
  auto net = mlp(6, 5, 3, 1);
  StateDict s;
  save_params(s, net->params());
  const std::string path = dir / "net.aigc";
  write_checkpoint(path, s);

  auto same_shape = mlp(6, 5, 3, 2);
  load_parameters(path, same_shape->params());
  CHECK(same_shape->params()[0]->value == net->params()[0]->value);
  CHECK(same_shape->params()[3]->value == net->params()[3]->value);

  auto wider = mlp(6, 7, 3, 1);
  REQUIRE_THROWS_AS(load_parameters(path, wider->params()), ShapeError);
  REQUIRE_THROWS_WITH(load_parameters(path, wider->params()),
                      Catch::Contains(path) && Catch::Contains("net.fc1.weight") &&
                          Catch::Contains("[5 x 6]") && Catch::Contains("[7 x 6]"));

  auto renamed = mlp(6, 5, 3, 1);
  renamed->set_name("other");
  REQUIRE_THROWS_WITH(load_parameters(path, renamed->params()),
                      Catch::Contains("other.fc1.weight") && Catch::Contains("missing"));

  Rng rng(0);
  Sequential<float> shorter;
  shorter.set_name("net");
  shorter.emplace<Dense<float>>("fc1", 6, 5, rng);
  REQUIRE_THROWS_WITH(
      load_parameters(path, shorter.params()),
      Catch::Contains("net.fc2.weight") && Catch::Contains("not a parameter of the model"));

  StateDict typed;
  Tensor<double> d = Tensor<double>::Zero(5, 6);
  typed.put_tensor("param/net.fc1.weight", d);
  typed.source = "typed.aigc";
  REQUIRE_THROWS_WITH(load_params(typed, same_shape->params()),
                      Catch::Contains("net.fc1.weight") && Catch::Contains("f64"));
}

TEST_CASE("Optimizer state round-trips through a checkpoint", "[checkpoint]") {
  auto net = mlp(4, 3, 2, 1);
  Adam<float> adam(net->params());
  for (Param<float>* p : net->params()) p->grad.setConstant(0.5f);
  adam.step();
  adam.step();
  StateDict s;
  save_optimizer(s, adam);
  const auto bytes = serialize_checkpoint(s);
  const StateDict back = parse_checkpoint(bytes.data(), bytes.size(), "adam");
  auto net2 = mlp(4, 3, 2, 1);
  Adam<float> adam2(net2->params());
  load_optimizer(back, adam2);
  CHECK(adam2.steps() == 2);
  const auto a = adam.state(), b = adam2.state();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(*a[i].tensor == *b[i].tensor);
  auto net3 = mlp(4, 5, 2, 1);
  Adam<float> adam3(net3->params());
  REQUIRE_THROWS_WITH(load_optimizer(back, adam3), Catch::Contains("net.fc1.weight.exp_avg"));
}

TEST_CASE("A failed write leaves the previous checkpoint intact", "[checkpoint]") {
  test::TempDir dir("ckpt-fail");
  const std::string path = dir / "run.aigc";
  write_checkpoint(path, small_state());
  const auto before = test::read_file(path);

  // A file-size limit makes write(2) fail with EFBIG part way through, as a full disk would.
  StateDict big;
  big.put_tensor("param/big", Tensor<float>::Ones(256, 256).eval());
  struct rlimit old;
  REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
  auto* old_handler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old;
  small.rlim_cur = 64 * 1024;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
  std::string error;
  try {
    write_checkpoint(path, big);
  } catch (const FileError& e) {
    error = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, old_handler);
  INFO(error);
  CHECK(error.find("run.aigc.tmp: cannot write") != std::string::npos);
  CHECK(error.find("File too large") != std::string::npos);
  CHECK(test::read_file(path) == before);
  CHECK(same(read_checkpoint(path), small_state()));
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));

  // An output folder that is a file.
  const std::string file = dir / "not-a-folder";
  test::write_file(file, {1, 2, 3}, false);
  REQUIRE_THROWS_WITH(write_checkpoint(file + "/x.aigc", small_state()),
                      Catch::Contains(file + "/x.aigc.tmp") && Catch::Contains("cannot create"));
  REQUIRE_THROWS_WITH(
      CheckpointManager({.folder = file}),
      Catch::Contains(file) && Catch::Contains("cannot create the checkpoint folder"));
  REQUIRE_THROWS_WITH(read_checkpoint(dir / "missing.aigc"),
                      Catch::Contains("missing.aigc") && Catch::Contains("cannot open"));
  REQUIRE_THROWS_WITH(read_checkpoint(dir.path.string()), Catch::Contains("not a regular file"));
}

TEST_CASE("CheckpointManager keeps the last K checkpoints", "[checkpoint]") {
  test::TempDir dir("ckpt-keep");
  CheckpointManager m({.folder = dir / "ck", .prefix = "vae", .keep_last = 2});
  CHECK_FALSE(m.latest());
  for (std::int64_t step : {5, 10, 100, 1000}) m.save(small_state(), step);
  test::write_file(dir / "ck/vae-000000009999.aigc.tmp", {1}, false);  // a killed writer's
  CHECK(m.list().size() == 2);
  m.save(small_state(), 1000);
  CHECK_FALSE(std::filesystem::exists(dir / "ck/vae-000000009999.aigc.tmp"));
  const auto all = m.list();
  REQUIRE(all.size() == 2);
  CHECK(all[0] == m.path_for(100));
  CHECK(all[1] == m.path_for(1000));
  CHECK(*m.latest() == m.path_for(1000));
  CHECK(same(read_checkpoint(*m.latest()), small_state()));
  REQUIRE_THROWS_AS(CheckpointManager({.folder = dir / "ck", .keep_last = -1}), ArgumentError);
}

TEST_CASE("BatchNorm's running statistics are saved and checked like parameters", "[checkpoint]") {
  auto make = [](Index width) {
    Rng rng(3);
    auto net = std::make_unique<Sequential<float>>();
    net->set_name("d");
    net->emplace<Dense<float>>("fc", 4, width, rng);
    net->emplace<BatchNorm1d<float>>("bn", width);
    return net;
  };
  auto net = make(3);
  Tensor<float> x(5, 4);
  Rng(1).fill_normal(x);
  net->forward(x);  // moves the running statistics away from their initial values
  StateDict s;
  save_params(s, net->params());
  save_buffers(s, net->buffers());
  REQUIRE(net->buffers().size() == 2);
  const auto bytes = serialize_checkpoint(s);
  const StateDict back = parse_checkpoint(bytes.data(), bytes.size(), "bn.aigc");
  auto fresh = make(3);
  REQUIRE(fresh->buffers()[0]->value != net->buffers()[0]->value);
  load_buffers(back, fresh->buffers());
  for (std::size_t i = 0; i < 2; ++i) CHECK(fresh->buffers()[i]->value == net->buffers()[i]->value);
  auto wider = make(6);
  REQUIRE_THROWS_WITH(load_buffers(back, wider->buffers()), Catch::Contains("d.bn.running_mean") &&
                                                                Catch::Contains("[1 x 3]") &&
                                                                Catch::Contains("[1 x 6]"));
  StateDict no_buffers;
  save_params(no_buffers, net->params());
  no_buffers.source = "old.aigc";
  REQUIRE_THROWS_WITH(load_buffers(no_buffers, fresh->buffers()),
                      Catch::Contains("old.aigc") && Catch::Contains("d.bn.running_mean") &&
                          Catch::Contains("missing"));
}

TEST_CASE("resume_newest_checkpoint takes the newest checkpoint that loads", "[checkpoint]") {
  test::TempDir dir("ckpt-resume");
  CheckpointManager m({.folder = dir / "ck", .prefix = "gan", .keep_last = 0});
  for (std::int64_t step : {1, 2, 3}) {
    StateDict s = small_state();
    s.put_int("train/step", step);
    m.save(s, step);
  }
  std::vector<std::int64_t> loaded;
  auto load = [&](const StateDict& s) { loaded.push_back(s.get_int("train/step")); };

  // A file is taken as it is; a folder, its newest checkpoint.
  CHECK(resume_newest_checkpoint(m.path_for(2), "gan", load) == m.path_for(2));
  CHECK(resume_newest_checkpoint(dir / "ck", "gan", load) == m.path_for(3));
  CHECK(loaded == std::vector<std::int64_t>{2, 3});

  // A damaged newest one is skipped for the one before it.
  auto bytes = test::read_file(m.path_for(3));
  bytes[bytes.size() - 1] ^= 1;
  test::write_file(m.path_for(3), bytes, false);
  loaded.clear();
  CHECK(resume_newest_checkpoint(dir / "ck", "gan", load) == m.path_for(2));
  CHECK(loaded == std::vector<std::int64_t>{2});

  // A checkpoint the loader refuses as damaged (a FileError) is skipped too; any other error, such
  // as another model's shapes, stops the search at once.
  int calls = 0;
  auto refuse_newest = [&](const StateDict& s) {
    ++calls;
    if (s.get_int("train/step") == 2) throw FileError(s.source + ": entry missing");
  };
  CHECK(resume_newest_checkpoint(dir / "ck", "gan", refuse_newest) == m.path_for(1));
  CHECK(calls == 2);
  calls = 0;
  auto other_model = [&](const StateDict&) {
    ++calls;
    throw ShapeError("another model");
  };
  REQUIRE_THROWS_AS(resume_newest_checkpoint(dir / "ck", "gan", other_model), ShapeError);
  CHECK(calls == 1);

  // When none loads, the oldest one's error; an empty folder or a missing file is named.
  auto none = [](const StateDict& s) { throw FileError(s.source + ": no good"); };
  REQUIRE_THROWS_WITH(resume_newest_checkpoint(dir / "ck", "gan", none),
                      Catch::Contains(m.path_for(1)) && Catch::Contains("no good"));
  std::filesystem::create_directories(dir / "empty");
  REQUIRE_THROWS_WITH(resume_newest_checkpoint(dir / "empty", "gan", load),
                      Catch::Contains(dir / "empty") && Catch::Contains("no gan-*.aigc"));
  REQUIRE_THROWS_WITH(resume_newest_checkpoint(dir / "missing.aigc", "gan", load),
                      Catch::Contains(dir / "missing.aigc"));
}

TEST_CASE("load_parameters into a module loads its buffers, by an explicit prefix",
          "[checkpoint]") {
  test::TempDir dir("ckpt-module");
  Rng rng(4);
  auto g = make_dcgan_generator<float>(8, rng);
  auto d = make_dcgan_discriminator<float>(rng);
  Tensor<float> z(5, 8);
  rng.fill_normal(z);
  for (int i = 0; i < 3; ++i) g->forward(z);  // the running statistics move away from 0 and 1
  g->set_training(false);
  const Tensor<float> want = g->forward(z);
  StateDict s;  // what GanTrainer::save_state writes: both networks' parameters and buffers
  save_params(s, g->params());
  save_params(s, d->params());
  std::vector<Buffer<float>*> buffers = g->buffers();
  for (Buffer<float>* b : d->buffers()) buffers.push_back(b);
  save_buffers(s, buffers);
  const std::string path = dir / "gan.aigc";
  write_checkpoint(path, s);

  Rng other(99);
  auto fresh = make_dcgan_generator<float>(8, other);
  // A list of parameters cannot take the running statistics: refused, not skipped.
  CHECK_THROWS_WITH(
      load_parameters(path, fresh->params()),
      Catch::Contains("holds buffers") && Catch::Contains("'generator.bn1.running_mean'"));
  // The whole file is not the generator's: the discriminator's entries are named.
  CHECK_THROWS_WITH(load_parameters(path, *fresh),
                    Catch::Contains("'discriminator.conv1.weight'") &&
                        Catch::Contains("is not a parameter of the model"));
  // Named by its prefix, the generator loads alone, buffers included, and draws the same images.
  load_parameters(path, *fresh, "generator.");
  fresh->set_training(false);
  const Tensor<float> got = fresh->forward(z);
  CHECK(std::memcmp(got.data(), want.data(), sizeof(float) * want.size()) == 0);

  // A file without the buffers fails naming the first one missing.
  StateDict params_only;
  save_params(params_only, g->params());
  write_checkpoint(dir / "params.aigc", params_only);
  CHECK_THROWS_WITH(load_parameters(dir / "params.aigc", *fresh, "generator."),
                    Catch::Contains("the model's buffer 'generator.bn1.running_mean' [1 x 256] "
                                    "is missing"));
  // A module whose names lie outside the prefix is refused, with the hint to name it.
  fresh->set_name("");
  CHECK_THROWS_WITH(load_parameters(path, *fresh, "generator."),
                    Catch::Contains("'conv1.weight' is outside the prefix 'generator.'"));
}

TEST_CASE("Saving two parameters of one name is refused", "[checkpoint]") {
  Param<float> a("w", 1, 2), b("w", 1, 2);
  StateDict s;
  CHECK_THROWS_AS(save_params(s, std::vector<Param<float>*>{&a, &b}), ArgumentError);
  CHECK_THROWS_WITH(save_params(s, std::vector<Param<float>*>{&a, &b}),
                    Catch::Contains("both named 'w'"));
  CHECK(s.size() == 0);
  Buffer<float> m("bn.running_mean", 1, 2, 0.0f), n("bn.running_mean", 1, 2, 0.0f);
  CHECK_THROWS_WITH(save_buffers(s, std::vector<Buffer<float>*>{&m, &n}),
                    Catch::Contains("buffers") && Catch::Contains("'bn.running_mean'"));
}
