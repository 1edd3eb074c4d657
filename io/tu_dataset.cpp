#include "io/tu_dataset.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/error.hpp"

namespace tessera::io {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// The lines of a text file (blank lines at the end are dropped; one inside is an error later).
std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(cat(path, ": cannot open"));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(trim(line));
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

// Comma-separated fields of one line.
std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t c = line.find(',', start);
    out.push_back(trim(line.substr(start, c == std::string::npos ? std::string::npos : c - start)));
    if (c == std::string::npos) return out;
    start = c + 1;
  }
}

bool parse_int(const std::string& s, int64_t& v) {
  if (s.empty()) return false;
  size_t used = 0;
  try {
    v = std::stoll(s, &used);
  } catch (const std::exception&) {
    return false;
  }
  return used == s.size();
}

bool parse_double(const std::string& s, double& v) {
  if (s.empty()) return false;
  size_t used = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    return false;
  }
  return used == s.size();
}

// One integer per line, `count` lines (count < 0: any).
std::vector<int64_t> read_ints(const std::string& path, int64_t count, const std::string& what) {
  const auto lines = read_lines(path);
  if (count >= 0 && static_cast<int64_t>(lines.size()) != count)
    throw Error(cat(path, ": expected ", count, " lines (", what, "), found ", lines.size()));
  std::vector<int64_t> v(lines.size());
  for (size_t i = 0; i < lines.size(); ++i)
    if (!parse_int(lines[i], v[i]))
      throw Error(cat(path, ":", i + 1, ": expected one integer (", what, "), got '", shown(lines[i], 60), "'"));
  return v;
}

// Dense ids 0..K-1 for the distinct values, in increasing order.
std::map<int64_t, int64_t> dense_ids(const std::vector<int64_t>& values) {
  std::set<int64_t> distinct(values.begin(), values.end());
  std::map<int64_t, int64_t> id;
  for (int64_t v : distinct) id.emplace(v, static_cast<int64_t>(id.size()));
  return id;
}

}  // namespace

TuDataset read_tu_dataset(const std::string& dir, const std::string& name_in) {
  namespace fs = std::filesystem;
  TuDataset ds;
  ds.name = name_in.empty() ? fs::path(dir).lexically_normal().filename().string() : name_in;
  if (ds.name.empty()) ds.name = fs::path(dir).lexically_normal().parent_path().filename().string();
  const std::string base = (fs::path(dir) / ds.name).string() + "_";
  if (!fs::exists(dir)) throw Error(cat(dir, ": no such folder (expected a TU dataset folder)"));
  if (!fs::is_directory(dir)) throw Error(cat(dir, ": not a directory (expected a TU dataset folder)"));

  const std::string ind_path = base + "graph_indicator.txt";
  const auto indicator = read_ints(ind_path, -1, "graph id of the node");
  const int64_t n = static_cast<int64_t>(indicator.size());
  if (n == 0) throw Error(cat(ind_path, ": empty (expected one graph id per node)"));
  // Graph ids: 1-based, ascending and without gaps, so each graph's nodes are contiguous.
  std::vector<int64_t> first_node, local(n);
  for (int64_t v = 0; v < n; ++v) {
    const int64_t g = indicator[v];
    const int64_t expected = static_cast<int64_t>(first_node.size());
    if (g == expected + 1) {
      first_node.push_back(v);
    } else if (g != expected || first_node.empty()) {  // the first node must open graph 1 (not 0)
      const std::string allowed = first_node.empty() ? "1" : cat(expected, " or ", expected + 1);
      throw Error(cat(ind_path, ":", v + 1, ": expected graph id ", allowed,
                      " (ids are 1-based, ascending, without gaps), got ", g));
    }
    local[v] = v - first_node.back();
  }
  const int64_t num_graphs = static_cast<int64_t>(first_node.size());
  first_node.push_back(n);

  const std::string label_path = base + "graph_labels.txt";
  const auto labels = read_ints(label_path, num_graphs, "graph label");
  const auto class_id = dense_ids(labels);
  for (const auto& [raw, id] : class_id) ds.class_names.push_back(std::to_string(raw));

  std::vector<int64_t> node_labels;
  const std::string nl_path = base + "node_labels.txt";
  if (fs::exists(nl_path)) node_labels = read_ints(nl_path, n, "node label");
  const auto node_label_id = dense_ids(node_labels);
  ds.num_node_labels = static_cast<int64_t>(node_label_id.size());
  for (const auto& [raw, id] : node_label_id) ds.node_label_values.push_back(raw);

  std::vector<std::vector<double>> attributes;
  const std::string at_path = base + "node_attributes.txt";
  if (fs::exists(at_path)) {
    const auto lines = read_lines(at_path);
    if (static_cast<int64_t>(lines.size()) != n)
      throw Error(cat(at_path, ": expected ", n, " lines (one per node), found ", lines.size()));
    for (size_t i = 0; i < lines.size(); ++i) {
      std::vector<double> row;
      for (const auto& f : fields(lines[i])) {
        double x = 0;
        if (!parse_double(f, x))
          throw Error(cat(at_path, ":", i + 1, ": expected comma-separated numbers, got '", shown(lines[i], 60), "'"));
        row.push_back(x);
      }
      if (i > 0 && row.size() != attributes[0].size())
        throw Error(
            cat(at_path, ":", i + 1, ": expected ", attributes[0].size(), " numbers as on line 1, got ", row.size()));
      attributes.push_back(std::move(row));
    }
    ds.num_node_attributes = static_cast<int64_t>(attributes[0].size());
  }

  const std::string a_path = base + "A.txt";
  const auto a_lines = read_lines(a_path);
  std::vector<int64_t> edge_labels;
  const std::string el_path = base + "edge_labels.txt";
  if (fs::exists(el_path)) {
    edge_labels = read_ints(el_path, -1, "edge label");
    // Name both files: an empty or cut A.txt (one line per edge) made the edge labels look wrong.
    if (edge_labels.size() != a_lines.size())
      throw Error(cat(a_path, " has ", a_lines.size(), " edges (lines), but ", fs::path(el_path).filename().string(),
                      " has ", edge_labels.size(), " labels: one of them is damaged or cut short"));
  }
  const auto edge_label_id = dense_ids(edge_labels);
  ds.num_edge_labels = static_cast<int64_t>(edge_label_id.size());
  for (const auto& [raw, id] : edge_label_id) ds.edge_label_values.push_back(raw);

  std::vector<std::vector<std::pair<int64_t, int64_t>>> edges(num_graphs);
  std::vector<std::vector<std::pair<std::pair<int64_t, int64_t>, int64_t>>> labelled(num_graphs);
  for (size_t i = 0; i < a_lines.size(); ++i) {
    const auto f = fields(a_lines[i]);
    int64_t u = 0, v = 0;
    if (f.size() != 2 || !parse_int(f[0], u) || !parse_int(f[1], v))
      throw Error(
          cat(a_path, ":", i + 1, ": expected two comma-separated node ids 'i, j', got '", shown(a_lines[i], 60), "'"));
    if (u < 1 || u > n || v < 1 || v > n)
      throw Error(cat(a_path, ":", i + 1, ": node id outside 1..", n, " (the nodes of ", ind_path, ")"));
    --u, --v;
    if (u == v) throw Error(cat(a_path, ":", i + 1, ": self loop at node ", u + 1, " (not supported)"));
    const int64_t g = indicator[u] - 1;
    if (indicator[v] - 1 != g)
      throw Error(cat(a_path, ":", i + 1, ": edge joins graph ", g + 1, " and graph ", indicator[v]));
    edges[g].emplace_back(local[u], local[v]);
    if (!edge_labels.empty()) labelled[g].push_back({{local[u], local[v]}, edge_label_id.at(edge_labels[i])});
  }

  ds.graphs.resize(num_graphs);
  for (int64_t g = 0; g < num_graphs; ++g) {
    LabelledGraph& lg = ds.graphs[g];
    const int64_t n0 = first_node[g], ng = first_node[g + 1] - n0;
    lg.graph = mesh::SimpleGraph::from_edges(ng, edges[g]);
    lg.label = class_id.at(labels[g]);
    for (int64_t v = 0; v < ng && !node_labels.empty(); ++v)
      lg.node_labels.push_back(node_label_id.at(node_labels[n0 + v]));
    for (int64_t v = 0; v < ng && !attributes.empty(); ++v) lg.node_attributes.push_back(attributes[n0 + v]);
    for (const auto& [uv, l] : labelled[g]) {
      lg.edge_labels[uv] = l;
      lg.edge_labels[{uv.second, uv.first}] = l;
    }
  }
  return ds;
}

}  // namespace tessera::io
