// Editing a service spec (src/swarm/spec_edit.cpp): mounting our files, and what is obsolete.
#include <gtest/gtest.h>

#include "swarm_fakes.h"

using namespace swarm_fakes;

TEST(SpecEdit, ReplacesOnlyWhatIsOursAndSaysWhenNothingChanged) {
  auto spec = parse(R"({"TaskTemplate":{"ContainerSpec":{
    "Secrets":[{"File":{"Name":"db"},"SecretID":"s0","SecretName":"users-db"},
               {"File":{"Name":"/c/live/a/privkey.pem"},"SecretID":"s1","SecretName":"sc-1-a-old-privkey"}],
    "Configs":[{"File":{"Name":"/c/live/a/cert.pem"},"ConfigID":"c9","ConfigName":"someone-elses"}]}}})");
  std::vector<Mount> mounts = {{Kind::Secret, "s2", "sc-1-a-new-privkey", "/c/live/a/privkey.pem", 0, 0, 0400},
                               {Kind::Config, "c2", "sc-1-a-new-cert", "/c/live/a/cert.pem", 0, 0, 0444}};
  EXPECT_TRUE(mountInto(*spec, "sc-1-a-", mounts));
  auto names = namesIn(spec);
  EXPECT_EQ(names, (std::set<std::string>{"users-db", "sc-1-a-new-privkey", "sc-1-a-new-cert"}));
  EXPECT_FALSE(mountInto(*spec, "sc-1-a-", mounts));
  auto secrets = spec->getObject("TaskTemplate")->getObject("ContainerSpec")->getArray("Secrets");
  EXPECT_EQ(secrets->getObject(1)->getObject("File")->getValue<int>("Mode"), 0400);
  EXPECT_EQ(secrets->getObject(1)->getObject("File")->getValue<std::string>("UID"), "0");
}

TEST(SpecEdit, ObsoleteKeepsWhatServicesNameAndTheNewest) {
  auto obj = [](const std::string& name, int gen, const std::string& role) {
    StoredObject o;
    o.name = name;
    o.labels = {{kLabelGeneration, std::to_string(gen)}, {kLabelRole, role}};
    return o;
  };
  std::vector<StoredObject> ours = {obj("k1", 1, "privkey.pem"), obj("k2", 2, "privkey.pem"),
                                    obj("k3", 3, "privkey.pem"), obj("s1", 1, "set"), obj("s2", 2, "set"),
                                    obj("s3", 3, "set"), obj("bad", -1, "privkey.pem")};
  std::vector<std::string> gone;
  for (const auto& o : obsolete(ours, {"k2"}, 3)) gone.push_back(o.name);
  EXPECT_EQ(gone, (std::vector<std::string>{"k1", "s1", "s2", "bad"}));
}
