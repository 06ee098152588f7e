// The alternative to Sparrow's generated phone tables: Debian's libphonenumber (C++) called directly, as a
// shim would call it. Parses and validates the same inputs as the `Phone/parse CN formats` benchmark and prints
// nanoseconds per number. Built and run by scripts/bench-phone.sh.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <phonenumbers/phonenumberutil.h>

int main(int argc, char **argv) {
    using i18n::phonenumbers::PhoneNumber;
    using i18n::phonenumbers::PhoneNumberUtil;
    const long iterations = argc > 1 ? std::atol(argv[1]) : 1000000;
    const std::vector<std::string> inputs = {"138 0013 8000", "+86 198-1234-5678", "0086 16612345678",
                                             "\xef\xbc\x91\xef\xbc\x99\xef\xbc\x92\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93"
                                             "\xef\xbc\x94\xef\xbc\x95\xef\xbc\x96\xef\xbc\x97\xef\xbc\x98",
                                             "(150) 01234567"};
    const PhoneNumberUtil &util = *PhoneNumberUtil::GetInstance();
    long valid = 0;
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < iterations; i++) {
        PhoneNumber number;
        if (util.Parse(inputs[i % inputs.size()], "CN", &number) == PhoneNumberUtil::NO_PARSING_ERROR &&
            util.IsValidNumber(number)) {
            std::string e164;
            util.Format(number, PhoneNumberUtil::E164, &e164);
            valid += e164.size() > 0;
        }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("libphonenumber: %.0f ns per number (%ld of %ld valid)\n", seconds * 1e9 / iterations, valid,
                iterations);
    return 0;
}
