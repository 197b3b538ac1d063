/// @file
/// aigc: ONNX export. A generator or decoder as one .onnx file (opset 13, a dynamic batch
/// dimension) that ONNX Runtime, Unity Sentis or Unreal NNE run: input "z" [N, latent] (and
/// "label" [N] int64 for a conditional model), output "image" [N, C, H, W] in the pixel range of
/// GenerativeModel::generate, the sampling metadata as metadata properties (docs/onnx.md). Built
/// with ONNX's generated protobuf classes and checked by onnx::checker; needs the CMake target
/// aigc::onnx (Debian: libonnx-dev). Custom layers join through register_onnx_exporter.
#pragma once

// <sys/mman.h> (included before this by the data headers) defines MAP_TYPE, a name ONNX's
// parser header uses for an enumerator.
#pragma push_macro("MAP_TYPE")
#undef MAP_TYPE
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#pragma pop_macro("MAP_TYPE")

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <typeindex>
#include <typeinfo>
#include <utility>
#include <vector>

#include "aigc/core/error.hpp"
#include "aigc/core/module.hpp"
#include "aigc/io/model_file.hpp"
#include "aigc/layers/activation.hpp"
#include "aigc/layers/batchnorm.hpp"
#include "aigc/layers/conditioning.hpp"
#include "aigc/layers/conv2d.hpp"
#include "aigc/layers/conv_transpose2d.hpp"
#include "aigc/layers/dense.hpp"
#include "aigc/layers/dropout.hpp"
#include "aigc/layers/reshape.hpp"
#include "aigc/layers/sequential.hpp"
#include "aigc/models/export.hpp"
#include "aigc/version.hpp"

namespace aigc {

/// The ONNX operator set the exporter writes (the default domain).
inline constexpr std::int64_t onnx_opset = 13;

/// A value of the graph being built: its name and the shape of one sample (the ONNX tensor is
/// [N, shape...], N the dynamic batch).
struct OnnxValue {
  std::string name;   ///< the value's name in the graph
  SampleShape shape;  ///< one sample's shape: {features} or {C, H, W}
};

/// The graph an exporter adds its nodes and initializers to.
class OnnxGraph {
 public:
  /// A builder of `graph`; `labels` names the int64 label input ("" for an unconditional model).
  OnnxGraph(onnx::GraphProto& graph, std::string labels) : g_(graph), labels_(std::move(labels)) {}

  /// The name of the label input [N] (int64); ArgumentError naming `layer` when there is none.
  const std::string& labels(const std::string& layer) const {
    if (labels_.empty())
      throw ArgumentError("export_onnx: layer '" + layer +
                          "' needs class labels, but the model is exported without them");
    return labels_;
  }

  /// A value name not used yet: `base`, or `base`_2, `base`_3, ...
  std::string unique(const std::string& base) {
    const std::string b = base.empty() ? "value" : base;
    int& count = used_[b];
    ++count;
    return count == 1 ? b : b + "_" + std::to_string(count);
  }

  /// Adds a node `op` (default domain) of `inputs`, with one output named after `name`; returns
  /// the node (for its attributes).
  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::string& name) {
    onnx::NodeProto* n = g_.add_node();
    n->set_op_type(op);
    n->set_name(unique(name + "/" + op));
    for (const std::string& in : inputs) n->add_input(in);
    n->add_output(n->name());
    return *n;
  }

  /// The output of `n`.
  static const std::string& output(const onnx::NodeProto& n) { return n.output(0); }

  /// Adds a float initializer of shape `dims` holding `values` (row-major), converted to float.
  template <class T>
  std::string initializer(const std::string& name, const std::vector<std::int64_t>& dims,
                          const T* values) {
    onnx::TensorProto* t = g_.add_initializer();
    t->set_name(unique(name));
    t->set_data_type(onnx::TensorProto::FLOAT);
    std::int64_t n = 1;
    for (std::int64_t d : dims) {
      t->add_dims(d);
      n *= d;
    }
    std::string raw(static_cast<std::size_t>(n) * sizeof(float), '\0');
    for (std::int64_t i = 0; i < n; ++i) {
      const auto f = static_cast<float>(values[i]);
      std::memcpy(raw.data() + i * sizeof(float), &f, sizeof f);
    }
    t->set_raw_data(std::move(raw));
    return t->name();
  }

  /// Adds a 1-d int64 initializer (shapes, axes).
  std::string int64s(const std::string& name, const std::vector<std::int64_t>& values) {
    onnx::TensorProto* t = g_.add_initializer();
    t->set_name(unique(name));
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<std::int64_t>(values.size()));
    for (std::int64_t v : values) t->add_int64_data(v);
    return t->name();
  }

  /// `v` reshaped to samples of `shape` (a Reshape node to [-1, shape...]; `v` itself when its
  /// shape is already that).
  OnnxValue reshape(const OnnxValue& v, const SampleShape& shape, const std::string& name) {
    if (v.shape == shape) return v;
    if (sample_size(v.shape) != sample_size(shape)) {
      throw ShapeError("export_onnx: layer '" + name + "' takes samples of " +
                       sample_shape_string(shape) + " but is given " +
                       sample_shape_string(v.shape));
    }
    std::vector<std::int64_t> dims{-1};
    dims.insert(dims.end(), shape.begin(), shape.end());
    const std::string target = int64s(name + "/shape", dims);
    return {output(node("Reshape", {v.name, target}, name)), shape};
  }

  /// `v` as rows of features ([N, F]).
  OnnxValue rows(const OnnxValue& v, const std::string& name) {
    return reshape(v, {sample_size(v.shape)}, name);
  }

  /// act(v), elementwise; `v` itself for the identity.
  OnnxValue activation(const OnnxValue& v, Activation act, double negative_slope,
                       const std::string& name) {
    switch (act) {
      case Activation::identity:
        return v;
      case Activation::relu:
        return {output(node("Relu", {v.name}, name)), v.shape};
      case Activation::leaky_relu: {
        onnx::NodeProto& n = node("LeakyRelu", {v.name}, name);
        attribute(n, "alpha", static_cast<float>(negative_slope));
        return {output(n), v.shape};
      }
      case Activation::sigmoid:
        return {output(node("Sigmoid", {v.name}, name)), v.shape};
      case Activation::tanh:
        return {output(node("Tanh", {v.name}, name)), v.shape};
    }
    throw ArgumentError("export_onnx: layer '" + name + "': unknown activation");
  }

  /// Sets attribute `key` of `n` to an integer.
  static void attribute(onnx::NodeProto& n, const std::string& key, std::int64_t value) {
    onnx::AttributeProto* a = n.add_attribute();
    a->set_name(key);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(value);
  }
  /// Sets attribute `key` of `n` to a float.
  static void attribute(onnx::NodeProto& n, const std::string& key, float value) {
    onnx::AttributeProto* a = n.add_attribute();
    a->set_name(key);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(value);
  }
  /// Sets attribute `key` of `n` to a list of integers.
  static void attribute(onnx::NodeProto& n, const std::string& key,
                        const std::vector<std::int64_t>& values) {
    onnx::AttributeProto* a = n.add_attribute();
    a->set_name(key);
    a->set_type(onnx::AttributeProto::INTS);
    for (std::int64_t v : values) a->add_ints(v);
  }

 private:
  onnx::GraphProto& g_;
  std::string labels_;
  std::map<std::string, int> used_;
};

/// How a layer of C++ type M becomes ONNX nodes: given the layer, its input value and the graph,
/// adds the nodes and returns the layer's output value.
template <class M>
using OnnxExporter = std::function<OnnxValue(M& layer, const OnnxValue& input, OnnxGraph& graph)>;

namespace detail {

/// The ONNX exporters of layer types, by C++ type.
template <class T>
class OnnxRegistry {
 public:
  static OnnxRegistry& instance() {
    static OnnxRegistry registry;
    return registry;
  }

  void add(std::type_index type, OnnxExporter<Module<T>> e) {
    if (!e) throw ArgumentError("register_onnx_exporter: the exporter is empty");
    std::lock_guard<std::mutex> lock(mutex_);
    exporters_.insert_or_assign(type, std::move(e));
  }

  OnnxExporter<Module<T>> find(std::type_index type) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = exporters_.find(type);
    return it == exporters_.end() ? nullptr : it->second;
  }

 private:
  OnnxRegistry();

  mutable std::mutex mutex_;
  std::map<std::type_index, OnnxExporter<Module<T>>> exporters_;
};

/// The layer's type for messages: its model-file name, else its C++ type.
template <class T>
std::string layer_type_name(const Module<T>& m) {
  const LayerType<T>* t = LayerRegistry<T>::instance().by_type(std::type_index(typeid(m)));
  return t ? t->name : std::string(typeid(m).name());
}

/// The nodes of module `m` applied to `in`.
template <class T>
OnnxValue export_onnx_module(Module<T>& m, const OnnxValue& in, OnnxGraph& graph) {
  const OnnxExporter<Module<T>> e = OnnxRegistry<T>::instance().find(std::type_index(typeid(m)));
  if (!e) {
    throw ArgumentError("export_onnx: layer '" + m.name() + "' of type '" + layer_type_name(m) +
                        "' has no ONNX form (register one with register_onnx_exporter)");
  }
  return e(m, in, graph);
}

template <class T>
OnnxValue export_sequential(Sequential<T>& s, const OnnxValue& in, OnnxGraph& graph) {
  OnnxValue v = in;
  for (std::size_t i = 0; i < s.size(); ++i) v = export_onnx_module(s[i], v, graph);
  return v;
}

template <class T>
OnnxValue export_dense(Dense<T>& d, const OnnxValue& in, OnnxGraph& graph) {
  if (d.in_features() == 0)
    throw ArgumentError("export_onnx: Dense '" + d.name() + "': its input size is not known yet");
  const std::string& name = d.name();
  const OnnxValue x = graph.rows(in, name);
  if (x.shape[0] != d.in_features()) {
    throw ShapeError("export_onnx: Dense '" + name + "' takes " + std::to_string(d.in_features()) +
                     " features, is given " + std::to_string(x.shape[0]));
  }
  std::vector<std::string> inputs{
      x.name, graph.initializer(name + ".weight", {d.out_features(), d.in_features()},
                                d.weight().value.data())};
  if (d.options().bias)
    inputs.push_back(graph.initializer(name + ".bias", {d.out_features()}, d.bias().value.data()));
  onnx::NodeProto& gemm = graph.node("Gemm", inputs, name);  // Y = X W^T + b
  OnnxGraph::attribute(gemm, "transB", std::int64_t{1});
  return graph.activation({OnnxGraph::output(gemm), {d.out_features()}}, d.options().activation,
                          d.options().negative_slope, name);
}

/// A Conv (Conv2d) or ConvTranspose (ConvTranspose2d) node of layer c, whose weight has the dims
/// `weight` (PyTorch's layouts, which ONNX shares), then its fused activation.
template <class Layer>
OnnxValue export_convolution(Layer& c, const char* op, const char* type, Index kernel,
                             const std::vector<std::int64_t>& weight, const OnnxValue& in,
                             OnnxGraph& graph) {
  const std::string& name = c.name();
  if (c.in_height() == 0) {
    throw ArgumentError("export_onnx: " + std::string(type) + " '" + name +
                        "': its image size is not known yet");
  }
  const OnnxValue x = graph.reshape(in, {c.in_channels(), c.in_height(), c.in_width()}, name);
  std::vector<std::string> inputs{
      x.name, graph.initializer(name + ".weight", weight, c.weight().value.data())};
  if (c.options().bias)
    inputs.push_back(graph.initializer(name + ".bias", {c.out_channels()}, c.bias().value.data()));
  onnx::NodeProto& conv = graph.node(op, inputs, name);
  const Index stride = c.options().stride, padding = c.options().padding;
  OnnxGraph::attribute(conv, "kernel_shape", std::vector<std::int64_t>{kernel, kernel});
  OnnxGraph::attribute(conv, "strides", std::vector<std::int64_t>{stride, stride});
  OnnxGraph::attribute(conv, "pads", std::vector<std::int64_t>{padding, padding, padding, padding});
  return graph.activation(
      {OnnxGraph::output(conv), {c.out_channels(), c.out_height(), c.out_width()}},
      c.options().activation, c.options().negative_slope, name);
}

template <class T>
OnnxValue export_conv2d(Conv2d<T>& c, const OnnxValue& in, OnnxGraph& graph) {
  const Index k = c.shape().kernel;
  return export_convolution(c, "Conv", "Conv2d", k, {c.out_channels(), c.in_channels(), k, k}, in,
                            graph);
}

template <class T>
OnnxValue export_conv_transpose2d(ConvTranspose2d<T>& c, const OnnxValue& in, OnnxGraph& graph) {
  const Index k = c.kernel();
  return export_convolution(c, "ConvTranspose", "ConvTranspose2d", k,
                            {c.in_channels(), c.out_channels(), k, k}, in, graph);
}

/// Inference form: (x - running_mean) / sqrt(running_var + eps) * gamma + beta per channel, then
/// the layer's activation (none for identity).
template <class T>
OnnxValue export_batchnorm(BatchNorm<T>& b, const OnnxValue& in, OnnxGraph& graph) {
  const std::string& name = b.name();
  const Index C = b.channels();
  OnnxValue x = in;
  if (x.shape.empty() || x.shape[0] != C) {  // rows of C x positions: a [N, C, S] view
    if (sample_size(x.shape) % C != 0) {
      throw ShapeError("export_onnx: BatchNorm '" + name + "' of " + std::to_string(C) +
                       " channels is given samples of " + sample_shape_string(x.shape));
    }
    const Index positions = sample_size(x.shape) / C;
    x = positions == 1 ? graph.reshape(x, {C}, name) : graph.reshape(x, {C, positions}, name);
  }
  std::vector<T> ones(static_cast<std::size_t>(C), T(1)), zeros(static_cast<std::size_t>(C), T(0));
  const bool affine = b.options().affine;
  onnx::NodeProto& n = graph.node(
      "BatchNormalization",
      {x.name,
       graph.initializer(name + ".weight", {C}, affine ? b.weight().value.data() : ones.data()),
       graph.initializer(name + ".bias", {C}, affine ? b.bias().value.data() : zeros.data()),
       graph.initializer(name + ".running_mean", {C}, b.running_mean().value.data()),
       graph.initializer(name + ".running_var", {C}, b.running_var().value.data())},
      name);
  OnnxGraph::attribute(n, "epsilon", static_cast<float>(b.options().eps));
  return graph.activation({OnnxGraph::output(n), x.shape}, b.options().activation,
                          b.options().negative_slope, name);
}

template <class T>
OnnxValue export_activation(ActivationLayer<T>& a, const OnnxValue& in, OnnxGraph& graph) {
  return graph.activation(in, a.activation(), a.negative_slope(), a.name());
}

/// Y = [X | code(label)]: the code a row of a table (identity for one-hot, the learned
/// embedding) gathered by label, repeated over the pixels of an image and concatenated as
/// channels.
template <class T>
OnnxValue export_conditioning(Conditioning<T>& c, const OnnxValue& in, OnnxGraph& graph) {
  const std::string& name = c.name();
  const ConditioningOptions& o = c.options();
  const Index code = c.code_size(), classes = c.num_classes();
  std::string table;
  if (o.code == LabelCode::embedding) {
    table = graph.initializer(name + ".weight", {classes, code}, c.weight().value.data());
  } else {
    std::vector<float> identity(static_cast<std::size_t>(classes * classes), 0.0f);
    for (Index i = 0; i < classes; ++i) identity[static_cast<std::size_t>(i * classes + i)] = 1.0f;
    table = graph.initializer(name + ".one_hot", {classes, classes}, identity.data());
  }
  onnx::NodeProto& gather = graph.node("Gather", {table, graph.labels(name)}, name);
  OnnxGraph::attribute(gather, "axis", std::int64_t{0});
  const OnnxValue codes{OnnxGraph::output(gather), {code}};
  if (o.height * o.width == 1) {  // a vector: [N, F + code]
    const OnnxValue x = graph.rows(in, name);
    onnx::NodeProto& cat = graph.node("Concat", {x.name, codes.name}, name);
    OnnxGraph::attribute(cat, "axis", std::int64_t{1});
    return {OnnxGraph::output(cat), {x.shape[0] + code}};
  }
  const OnnxValue x = graph.reshape(in, {c.channels(), o.height, o.width}, name);
  const OnnxValue column = graph.reshape(codes, {code, 1, 1}, name);
  const std::string expand = OnnxGraph::output(graph.node(
      "Expand", {column.name, graph.int64s(name + "/image", {1, code, o.height, o.width})}, name));
  onnx::NodeProto& cat = graph.node("Concat", {x.name, expand}, name);
  OnnxGraph::attribute(cat, "axis", std::int64_t{1});
  return {OnnxGraph::output(cat), {c.channels() + code, o.height, o.width}};
}

template <class T>
OnnxRegistry<T>::OnnxRegistry() {
  auto add_builtin = [this]<class M>(M*, OnnxValue (*f)(M&, const OnnxValue&, OnnxGraph&)) {
    exporters_.insert_or_assign(std::type_index(typeid(M)),
                                [f](Module<T>& m, const OnnxValue& in, OnnxGraph& g) {
                                  return f(static_cast<M&>(m), in, g);
                                });
  };
  add_builtin(static_cast<Sequential<T>*>(nullptr), &export_sequential<T>);
  add_builtin(static_cast<Dense<T>*>(nullptr), &export_dense<T>);
  add_builtin(static_cast<Conv2d<T>*>(nullptr), &export_conv2d<T>);
  add_builtin(static_cast<ConvTranspose2d<T>*>(nullptr), &export_conv_transpose2d<T>);
  add_builtin(
      static_cast<BatchNorm1d<T>*>(nullptr),
      +[](BatchNorm1d<T>& b, const OnnxValue& in, OnnxGraph& g) {
        return export_batchnorm<T>(b, in, g);
      });
  add_builtin(
      static_cast<BatchNorm2d<T>*>(nullptr),
      +[](BatchNorm2d<T>& b, const OnnxValue& in, OnnxGraph& g) {
        return export_batchnorm<T>(b, in, g);
      });
  const auto activation = [&]<class M>(M* type) {
    add_builtin(
        type,
        +[](M& a, const OnnxValue& in, OnnxGraph& g) { return export_activation<T>(a, in, g); });
  };
  activation(static_cast<ActivationLayer<T>*>(nullptr));
  activation(static_cast<ReLU<T>*>(nullptr));
  activation(static_cast<LeakyReLU<T>*>(nullptr));
  activation(static_cast<Sigmoid<T>*>(nullptr));
  activation(static_cast<Tanh<T>*>(nullptr));
  // Dropout is the identity at inference; Reshape and Flatten only change the sample's shape.
  add_builtin(
      static_cast<Dropout<T>*>(nullptr),
      +[](Dropout<T>&, const OnnxValue& in, OnnxGraph&) { return in; });
  add_builtin(
      static_cast<Reshape<T>*>(nullptr), +[](Reshape<T>& r, const OnnxValue& in, OnnxGraph& g) {
        return g.reshape(in, r.shape(), r.name());
      });
  add_builtin(
      static_cast<Flatten<T>*>(nullptr),
      +[](Flatten<T>& f, const OnnxValue& in, OnnxGraph& g) { return g.rows(in, f.name()); });
  add_builtin(static_cast<Conditioning<T>*>(nullptr), &export_conditioning<T>);
}

/// "[a, b, c]" of strings as a JSON array.
inline std::string json_strings(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += i ? ", \"" : "\"";
    for (const char ch : items[i]) {
      const auto u = static_cast<unsigned char>(ch);
      if (ch == '"' || ch == '\\') {
        out += '\\';
        out += ch;
      } else if (u < 0x20) {
        char esc[8];
        std::snprintf(esc, sizeof esc, "\\u%04x", u);
        out += esc;
      } else {
        out += ch;
      }
    }
    out += '"';
  }
  return out + "]";
}

inline void add_metadata(onnx::ModelProto& model, const std::string& key, const std::string& v) {
  onnx::StringStringEntryProto* e = model.add_metadata_props();
  e->set_key(key);
  e->set_value(v);
}

/// A graph input or output of float or int64 values, [N, dims...] with N named "N".
inline void add_io(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list,
                   const std::string& name, int type, const std::vector<Index>& dims) {
  onnx::ValueInfoProto* v = list->Add();
  v->set_name(name);
  onnx::TypeProto_Tensor* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(type);
  onnx::TensorShapeProto* shape = t->mutable_shape();
  shape->add_dim()->set_dim_param("N");
  for (Index d : dims) shape->add_dim()->set_dim_value(d);
}

}  // namespace detail

/// Registers the ONNX form of a layer class M (a Module<T>): `exporter` adds the nodes of one
/// layer and returns its output. Register beside register_layer; a second registration of M
/// replaces the first.
template <class M, class T = decltype(detail::module_scalar(static_cast<M*>(nullptr)))>
void register_onnx_exporter(OnnxExporter<M> exporter) {
  if (!exporter) throw ArgumentError("register_onnx_exporter: the exporter is empty");
  detail::OnnxRegistry<T>::instance().add(
      std::type_index(typeid(M)), [exporter](Module<T>& m, const OnnxValue& in, OnnxGraph& g) {
        return exporter(static_cast<M&>(m), in, g);
      });
}

/// The ONNX model of a generator or decoder with its metadata (checked as export_model checks
/// it): inputs "z" [N, latent] and, when info has classes, "label" [N] (int64); output "image"
/// [N, C, H, W], a decoder's logits passed through the sigmoid; BatchNorm in its inference form;
/// Dropout dropped. ArgumentError names a layer with no ONNX form and its type; the model is
/// checked by onnx::checker before it is returned.
template <class T>
onnx::ModelProto onnx_model(Module<T>& module, const GenerativeModelInfo& given) {
  const GenerativeModelInfo info = detail::checked_info(module, given, "export_onnx");
  onnx::ModelProto model;
  model.set_ir_version(onnx::IR_VERSION);
  model.set_producer_name("aigc");
  model.set_producer_version(AIGC_VERSION_STRING);
  model.set_model_version(1);
  model.set_doc_string("aigc " + info.kind + " '" + module.name() +
                       "': z [N, latent] (and label [N], int64, for a conditional model) -> "
                       "image [N, C, H, W]");
  onnx::OperatorSetIdProto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(onnx_opset);

  onnx::GraphProto& g = *model.mutable_graph();
  g.set_name(module.name().empty() ? info.kind : module.name());
  const bool conditional = info.num_classes > 0;
  detail::add_io(g.mutable_input(), "z", onnx::TensorProto::FLOAT, {info.latent});
  if (conditional) detail::add_io(g.mutable_input(), "label", onnx::TensorProto::INT64, {});
  OnnxGraph graph(g, conditional ? "label" : "");
  OnnxValue out = detail::export_onnx_module(module, {"z", {info.latent}}, graph);
  out = graph.reshape(out, info.image_shape, "image");
  if (info.output == ModelOutput::logits)
    out = graph.activation(out, Activation::sigmoid, 0, "image");
  // The last node's output becomes "image".
  onnx::NodeProto& last = graph.node("Identity", {out.name}, "image");
  last.set_output(0, "image");
  detail::add_io(g.mutable_output(), "image", onnx::TensorProto::FLOAT, info.image_shape);

  const SampleShape& s = info.image_shape;
  detail::add_metadata(model, "kind", info.kind);
  detail::add_metadata(model, "latent", std::to_string(info.latent));
  detail::add_metadata(
      model, "image_shape",
      "[" + std::to_string(s[0]) + ", " + std::to_string(s[1]) + ", " + std::to_string(s[2]) + "]");
  detail::add_metadata(model, "pixel_range",
                       info.pixel_scale() == PixelScale::symmetric ? "[-1, 1]" : "[0, 1]");
  detail::add_metadata(model, "num_classes", std::to_string(info.num_classes));
  if (!info.class_names.empty())
    detail::add_metadata(model, "class_names", detail::json_strings(info.class_names));
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw ArgumentError("export_onnx: '" + module.name() +
                        "': onnx::checker refuses the model: " + e.what());
  }
  return model;
}

/// Writes `model` to `path` (through a temporary file renamed into place); FileError naming the
/// path when it cannot.
inline void save_onnx(const std::string& path, const onnx::ModelProto& model) {
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw FileError(path + ": cannot serialise the ONNX model");
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw FileError(path + ": cannot write the ONNX model");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw FileError(path + ": cannot write the ONNX model (rename failed)");
  }
}

/// Reads an ONNX model file; FileError naming the path when it is missing or not a model.
inline onnx::ModelProto load_onnx(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(path + ": cannot open the ONNX model");
  onnx::ModelProto model;
  if (!model.ParseFromIstream(&in)) throw FileError(path + ": not an ONNX model (parse failed)");
  return model;
}

/// Writes a generator or decoder with its metadata as an ONNX file (see onnx_model).
template <class T>
void export_onnx(const std::string& path, Module<T>& module, const GenerativeModelInfo& info) {
  save_onnx(path, onnx_model(module, info));
}

/// Writes a loaded model file (GenerativeModel) as an ONNX file.
template <class T>
void export_onnx(const std::string& path, GenerativeModel<T>& model) {
  save_onnx(path, onnx_model(model.module(), model.info()));
}

}  // namespace aigc
