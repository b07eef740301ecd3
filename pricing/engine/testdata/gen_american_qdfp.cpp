// Reads lines "right S K r q vol days" (days to expiry, Act/365F),
// prints QuantLib 1.29 QdFp prices (or ERR msg) to 17 digits; see gen_american_qdfp.py.
#include <ql/quantlib.hpp>
#include <iostream>
#include <sstream>
#include <iomanip>
using namespace QuantLib;
int main(int argc, char** argv) {
    std::string scheme = argc > 1 ? argv[1] : "high";
    Date val(25, November, 2026);
    Settings::instance().evaluationDate() = val;
    DayCounter dc = Actual365Fixed();
    std::string line;
    std::cout << std::setprecision(17);
    while (std::getline(std::cin, line)) {
        std::istringstream in(line);
        std::string type; Real S, K, r, q, vol; int days;
        if (!(in >> type >> S >> K >> r >> q >> vol >> days)) continue;
        try {
            auto spot = ext::make_shared<SimpleQuote>(S);
            Handle<YieldTermStructure> rts(ext::make_shared<FlatForward>(val, r, dc));
            Handle<YieldTermStructure> qts(ext::make_shared<FlatForward>(val, q, dc));
            Handle<BlackVolTermStructure> vts(ext::make_shared<BlackConstantVol>(val, NullCalendar(), vol, dc));
            auto proc = ext::make_shared<BlackScholesMertonProcess>(Handle<Quote>(spot), qts, rts, vts);
            auto payoff = ext::make_shared<PlainVanillaPayoff>(type == "call" ? Option::Call : Option::Put, K);
            auto ex = ext::make_shared<AmericanExercise>(val, val + days);
            VanillaOption opt(payoff, ex);
            ext::shared_ptr<PricingEngine> eng;
            if (scheme == "high") eng = ext::make_shared<QdFpAmericanEngine>(proc, QdFpAmericanEngine::highPrecisionScheme());
            else if (scheme == "accurate") eng = ext::make_shared<QdFpAmericanEngine>(proc, QdFpAmericanEngine::accurateScheme());
            else if (scheme == "fast") eng = ext::make_shared<QdFpAmericanEngine>(proc, QdFpAmericanEngine::fastScheme());
            else if (scheme == "fd") eng = ext::make_shared<FdBlackScholesVanillaEngine>(proc, 2000, 2000, 0);
            else if (scheme == "legendre") eng = ext::make_shared<QdFpAmericanEngine>(proc, ext::make_shared<QdFpLegendreScheme>(64, 10, 32, 128));
            opt.setPricingEngine(eng);
            std::cout << opt.NPV() << "\n";
        } catch (std::exception& e) {
            std::cout << "ERR " << e.what() << "\n";
        }
    }
}
