// compare: times QuantLib 1.29 on the trades that "pricefn"'s bench/compare
// wrote (one file per figure in DIR), one core, CPU time per trade, and
// prints one line per figure: "figure ns_per_trade checksum extra", where
// checksum is the sum of the trades' npvs (the Go side prints its own, to
// show both priced the same trades) and extra is the Monte Carlo standard
// error where there is one. Build: g++ -O2 -o compare compare.cpp -lQuantLib
#include <ql/quantlib.hpp>
#include <ctime>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <vector>
using namespace QuantLib;

static double cpuSeconds() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static std::vector<std::vector<std::string>> readTrades(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::vector<std::vector<std::string>> out;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ss(line);
        std::vector<std::string> f;
        std::string w;
        while (ss >> w) f.push_back(w);
        if (!f.empty()) out.push_back(f);
    }
    return out;
}

// timePasses runs pass (one pricing of every trade) until minSeconds of CPU
// have passed, and returns CPU nanoseconds per trade.
static double timePasses(size_t trades, double minSeconds, const std::function<void()>& pass) {
    pass(); // warm up
    int passes = 0;
    double t0 = cpuSeconds(), t = t0;
    while (t - t0 < minSeconds || passes < 1) {
        pass();
        passes++;
        t = cpuSeconds();
    }
    return (t - t0) * 1e9 / (double(passes) * trades);
}

static const Date valDate(25, November, 2026);

struct Equity {
    ext::shared_ptr<SimpleQuote> spot;
    Handle<YieldTermStructure> rts, qts;
    Handle<BlackVolTermStructure> vts;
    ext::shared_ptr<BlackScholesMertonProcess> process;
};

static Equity equity(double s, double r, double q, double vol) {
    DayCounter dc = Actual365Fixed();
    Equity e;
    e.spot = ext::make_shared<SimpleQuote>(s);
    e.rts = Handle<YieldTermStructure>(ext::make_shared<FlatForward>(valDate, r, dc));
    e.qts = Handle<YieldTermStructure>(ext::make_shared<FlatForward>(valDate, q, dc));
    e.vts = Handle<BlackVolTermStructure>(ext::make_shared<BlackConstantVol>(valDate, NullCalendar(), vol, dc));
    e.process = ext::make_shared<BlackScholesMertonProcess>(Handle<Quote>(e.spot), e.qts, e.rts, e.vts);
    return e;
}

static Option::Type right(const std::string& s) { return s == "call" ? Option::Call : Option::Put; }

static void print(const std::string& figure, double ns, double checksum, double extra = 0) {
    std::cout << figure << " " << std::setprecision(6) << ns << " " << std::setprecision(15) << checksum << " "
              << std::setprecision(6) << extra << std::endl;
}

// european: "right S K r q vol days". QuantLib's AnalyticEuropeanEngine
// path (year fraction, discount factors and variance from the term
// structures, BlackCalculator, five greeks), and BlackCalculator alone on
// inputs computed beforehand.
static void european(const std::string& dir, double minSec) {
    auto rows = readTrades(dir + "/european.txt");
    struct T { Equity e; ext::shared_ptr<StrikedTypePayoff> payoff; Date expiry; };
    std::vector<T> ts;
    for (auto& f : rows)
        ts.push_back({equity(std::stod(f[1]), std::stod(f[3]), std::stod(f[4]), std::stod(f[5])),
                      ext::make_shared<PlainVanillaPayoff>(right(f[0]), std::stod(f[2])),
                      valDate + std::stoi(f[6])});
    DayCounter dc = Actual365Fixed();
    double sum = 0, checksum = 0;
    auto pass = [&](bool check) {
        for (auto& t : ts) {
            Time tt = dc.yearFraction(valDate, t.expiry);
            DiscountFactor dq = t.e.qts->discount(tt), dr = t.e.rts->discount(tt);
            Real s = t.e.spot->value();
            Real variance = t.e.vts->blackVariance(tt, t.payoff->strike());
            BlackCalculator bc(t.payoff, s * dq / dr, std::sqrt(variance), dr);
            Real v = bc.value();
            sum += v + bc.delta(s) + bc.gamma(s) + bc.vega(tt) + bc.theta(s, tt) + bc.rho(tt);
            if (check) checksum += v;
        }
    };
    pass(true);
    double ns = timePasses(ts.size(), minSec, [&] { pass(false); });
    print("european", ns, checksum);

    std::vector<double> fwd, sd, df, tt, spot;
    for (auto& t : ts) {
        Time x = dc.yearFraction(valDate, t.expiry);
        tt.push_back(x);
        df.push_back(t.e.rts->discount(x));
        spot.push_back(t.e.spot->value());
        fwd.push_back(spot.back() * t.e.qts->discount(x) / df.back());
        sd.push_back(std::sqrt(t.e.vts->blackVariance(x, t.payoff->strike())));
    }
    ns = timePasses(ts.size(), minSec, [&] {
        for (size_t i = 0; i < ts.size(); i++) {
            BlackCalculator bc(ts[i].payoff, fwd[i], sd[i], df[i]);
            sum += bc.value() + bc.delta(spot[i]) + bc.gamma(spot[i]) + bc.vega(tt[i]) + bc.theta(spot[i], tt[i]) + bc.rho(tt[i]);
        }
    });
    print("european-formula", ns, checksum);
    if (sum == 42) std::cout << "";
}

// priceAll times instruments priced afresh (recalculate) each pass.
template <class I>
static void priceAll(const std::string& figure, std::vector<ext::shared_ptr<I>>& opts, double minSec) {
    double checksum = 0;
    for (auto& o : opts) checksum += o->NPV();
    double ns = timePasses(opts.size(), minSec, [&] {
        for (auto& o : opts) o->recalculate();
    });
    print(figure, ns, checksum);
}

// barrier: "right S K r q vol days barrierType level rebate", npv by
// AnalyticBarrierEngine.
static void barrier(const std::string& dir, double minSec) {
    std::vector<Equity> keep;
    std::vector<ext::shared_ptr<BarrierOption>> opts;
    for (auto& f : readTrades(dir + "/barrier.txt")) {
        keep.push_back(equity(std::stod(f[1]), std::stod(f[3]), std::stod(f[4]), std::stod(f[5])));
        Barrier::Type bt = f[7] == "downIn" ? Barrier::DownIn : f[7] == "downOut" ? Barrier::DownOut : f[7] == "upIn" ? Barrier::UpIn : Barrier::UpOut;
        auto o = ext::make_shared<BarrierOption>(bt, std::stod(f[8]), std::stod(f[9]),
            ext::make_shared<PlainVanillaPayoff>(right(f[0]), std::stod(f[2])),
            ext::make_shared<EuropeanExercise>(valDate + std::stoi(f[6])));
        o->setPricingEngine(ext::make_shared<AnalyticBarrierEngine>(keep.back().process));
        opts.push_back(o);
    }
    priceAll("barrier", opts, minSec);
}

// american: "right S K r q vol days", npv by QdFpAmericanEngine with its
// high-precision scheme (the reference prices').
static void american(const std::string& dir, double minSec) {
    std::vector<Equity> keep;
    std::vector<ext::shared_ptr<VanillaOption>> opts;
    for (auto& f : readTrades(dir + "/american.txt")) {
        keep.push_back(equity(std::stod(f[1]), std::stod(f[3]), std::stod(f[4]), std::stod(f[5])));
        auto o = ext::make_shared<VanillaOption>(ext::make_shared<PlainVanillaPayoff>(right(f[0]), std::stod(f[2])),
            ext::make_shared<AmericanExercise>(valDate, valDate + std::stoi(f[6])));
        o->setPricingEngine(ext::make_shared<QdFpAmericanEngine>(keep.back().process, QdFpAmericanEngine::highPrecisionScheme()));
        opts.push_back(o);
    }
    priceAll("american", opts, minSec);
}

// asian: "right S K r q vol days fixings paths", arithmetic average price
// by MCDiscreteArithmeticAPEngine with the geometric control variate and
// the same number of samples; extra is the mean standard error.
static void asian(const std::string& dir, double minSec) {
    std::vector<Equity> keep;
    std::vector<ext::shared_ptr<DiscreteAveragingAsianOption>> opts;
    for (auto& f : readTrades(dir + "/asian.txt")) {
        keep.push_back(equity(std::stod(f[1]), std::stod(f[3]), std::stod(f[4]), std::stod(f[5])));
        int days = std::stoi(f[6]), n = std::stoi(f[7]);
        std::vector<Date> fixings;
        for (int k = 1; k <= n; k++) fixings.push_back(valDate + int(double(days) * k / n));
        auto o = ext::make_shared<DiscreteAveragingAsianOption>(Average::Arithmetic, 0.0, 0, fixings,
            ext::make_shared<PlainVanillaPayoff>(right(f[0]), std::stod(f[2])),
            ext::make_shared<EuropeanExercise>(valDate + days));
        o->setPricingEngine(MakeMCDiscreteArithmeticAPEngine<PseudoRandom>(keep.back().process)
            .withSamples(std::stoi(f[8])).withControlVariate(true).withSeed(42));
        opts.push_back(o);
    }
    double checksum = 0, se = 0;
    for (auto& o : opts) { checksum += o->NPV(); se += o->errorEstimate(); }
    double ns = timePasses(opts.size(), minSec, [&] {
        for (auto& o : opts) o->recalculate();
    });
    print("asian", ns, checksum, se / opts.size());
}

// heston: "right S K r q v0 kappa theta sigma rho days", by
// AnalyticHestonEngine in its Andersen-Piterbarg form, 128-point
// Gauss-Laguerre.
static void heston(const std::string& dir, double minSec) {
    DayCounter dc = Actual365Fixed();
    std::vector<ext::shared_ptr<VanillaOption>> opts;
    for (auto& f : readTrades(dir + "/heston.txt")) {
        Handle<YieldTermStructure> rts(ext::make_shared<FlatForward>(valDate, std::stod(f[3]), dc));
        Handle<YieldTermStructure> qts(ext::make_shared<FlatForward>(valDate, std::stod(f[4]), dc));
        auto proc = ext::make_shared<HestonProcess>(rts, qts, Handle<Quote>(ext::make_shared<SimpleQuote>(std::stod(f[1]))),
            std::stod(f[5]), std::stod(f[6]), std::stod(f[7]), std::stod(f[8]), std::stod(f[9]));
        auto o = ext::make_shared<VanillaOption>(ext::make_shared<PlainVanillaPayoff>(right(f[0]), std::stod(f[2])),
            ext::make_shared<EuropeanExercise>(valDate + std::stoi(f[10])));
        o->setPricingEngine(ext::make_shared<AnalyticHestonEngine>(ext::make_shared<HestonModel>(proc),
            AnalyticHestonEngine::AndersenPiterbarg, AnalyticHestonEngine::Integration::gaussLaguerre(128)));
        opts.push_back(o);
    }
    priceAll("heston", opts, minSec);
}

// swap: "notional fixedRate startDays maturityYears side rate": annual
// 30/360 fixed against semiannual ACT/360 floating, weekends-only
// calendar, modified following, on one flat curve; npv and fair rate by
// DiscountingSwapEngine.
static void swap(const std::string& dir, double minSec) {
    DayCounter dc = Actual365Fixed();
    Calendar cal = WeekendsOnly();
    std::vector<ext::shared_ptr<VanillaSwap>> swaps;
    for (auto& f : readTrades(dir + "/swap.txt")) {
        Handle<YieldTermStructure> curve(ext::make_shared<FlatForward>(valDate, std::stod(f[5]), dc));
        auto index = ext::make_shared<IborIndex>("X", Period(6, Months), 0, EURCurrency(), cal, ModifiedFollowing, false, Actual360(), curve);
        Date start = valDate + std::stoi(f[2]);
        Date maturity = start + Period(std::stoi(f[3]), Years);
        Schedule fixed(start, maturity, Period(Annual), cal, ModifiedFollowing, ModifiedFollowing, DateGeneration::Forward, false);
        Schedule flt(start, maturity, Period(Semiannual), cal, ModifiedFollowing, ModifiedFollowing, DateGeneration::Forward, false);
        auto s = ext::make_shared<VanillaSwap>(f[4] == "payFixed" ? Swap::Payer : Swap::Receiver, std::stod(f[0]),
            fixed, std::stod(f[1]), Thirty360(Thirty360::BondBasis), flt, index, 0.0, Actual360());
        s->setPricingEngine(ext::make_shared<DiscountingSwapEngine>(curve));
        swaps.push_back(s);
    }
    double checksum = 0;
    for (auto& s : swaps) { checksum += s->NPV(); s->fairRate(); }
    double ns = timePasses(swaps.size(), minSec, [&] {
        for (auto& s : swaps) { s->recalculate(); s->fairRate(); }
    });
    print("swap", ns, checksum);
}

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: compare DIR [MIN_SECONDS]\n";
        return 2;
    }
    std::string dir = argv[1];
    double minSec = argc > 2 ? std::stod(argv[2]) : 0.3;
    Settings::instance().evaluationDate() = valDate;
    try {
        european(dir, minSec);
        barrier(dir, minSec);
        american(dir, minSec);
        asian(dir, minSec);
        heston(dir, minSec);
        swap(dir, minSec);
    } catch (std::exception& e) {
        std::cerr << "compare: " << e.what() << "\n";
        return 1;
    }
}
