// Command gensr24 turns the USDA National Nutrient Database for Standard
// Reference, release 24 (SR24), as packaged in the usda_sr24.jar file of
// the CRON-o-Meter Debian package, into the compact data files embedded by
// package sr24.
//
// Usage:
//
//	go run ./pkg/nutrition/internal/gensr24 -jar /usr/share/cronometer/usda_sr24.jar -out pkg/nutrition/sr24/
//
// The jar is a zip archive holding usda_sr24/foods.index (one
// "NDB number|description" line per food) and one XML file per food,
// usda_sr24/NNNNN.xml, whose <nutrient> elements give amounts per 100 g
// (energy in kcal, protein, carbohydrate, fat and fiber in g, sodium in mg)
// and whose <measure> elements give household portions in grams.
//
// gensr24 writes two gzip'd CSV files into the output folder:
//
//	foods.csv.gz     ndb,description,energy_kcal,protein_g,carbohydrate_g,fat_g,fiber_g,sodium_mg
//	portions.csv.gz  ndb,description,grams
//
// Foods are sorted by NDB number; the portions of a food keep the order of
// the source. A nutrient the source does not report is left empty. A food
// with no energy value (a placeholder such as the ground beef calculator)
// is skipped and named on standard error. The output is deterministic: the
// same jar always gives the same bytes (the gzip header carries no name and
// no time stamp). The curated aliases.csv beside the data is not touched.
package main
