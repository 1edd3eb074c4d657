// An app whose deck schema cannot be built (one key declared twice, as a model family of one's own
// can do): run_app reports it in one line and exits 3 (it escaped: terminate, exit 134).
#include "apps/app.hpp"
#include "io/schema.hpp"

int main(int argc, char** argv) {
  using namespace tessera;
  return apps::run_app(argc, argv,
                       {"schema-error-app", "declares data.dir twice",
                        [](io::Schema& s) {
                          s.add("data.dir", io::KeyType::String, "", "a folder");
                          s.add("data.dir", io::KeyType::String, "", "the same key, documented otherwise");
                        },
                        [](apps::Context&) {}});
}
