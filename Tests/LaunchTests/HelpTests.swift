import Foundation
import Testing
import TestSupport

/// The command line as users see it, pinned: an option added, renamed or re-defaulted changes
/// this text, so it cannot change by accident (update the pin with the change on purpose).
struct HelpTests {

    func help(_ arguments: [String]) throws -> String {
        let run = try runProcess(sitelens, arguments, environment: ["COLUMNS": "80"])
        #expect(run.status == 0, "\(run.stderr)")
        return run.stdout
    }

    @Test func theTopLevelHelpIsPinned() throws {
        #expect(try help(["--help"]).trimmingCharacters(in: .newlines) == Self.topLevel)
    }

    @Test func trainHelpIsPinned() throws {
        let text = try help(["train", "--help"]).trimmingCharacters(in: .newlines)
        let (got, pinned) = (text.split(separator: "\n", omittingEmptySubsequences: false), Self.train.split(separator: "\n", omittingEmptySubsequences: false))
        let firstDifference = zip(got, pinned).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(text == Self.train, "first difference at line \((firstDifference?.offset ?? min(got.count, pinned.count)) + 1): '\(firstDifference?.element.0 ?? "")' against pinned '\(firstDifference?.element.1 ?? "")'")
    }

    static let topLevel = #"""
OVERVIEW: Train energy models of atomic structures under MPI, then explain them
site by site.

USAGE: sitelens <subcommand>

OPTIONS:
  --version               Show the version.
  -h, --help              Show help information.

SUBCOMMANDS:
  train                   Train an ensemble under mpirun (or in one process)
                          and decompose it site by site.
  check                   Dry run of `train` with the same options: the data,
                          the automatic choices, memory and work.
  decompose               Re-run the ensemble-averaged site decomposition from
                          a run's saved members.
  predict                 Predict energies with a finished run's ensemble: mean
                          and spread per structure.
  screen                  Search every site occupation of trained runs for the
                          best, with the ensemble spread.
  generate                Write a built-in data set: a planted-truth site
                          table, or 2-D Lennard-Jones clusters.
  rasterise               Rasterise structures into Gaussian images (float32
                          .npy, shape [N, C, H, W]).
  bench                   Benchmarks that print figures and ratios against a
                          named reference, run side by side.
  mpi-info                Print the rank count, processor names, Open MPI
                          version and thread level.

  See 'sitelens help <subcommand>' for detailed help.
"""#

    static let train = #"""
OVERVIEW: Train an ensemble under mpirun (or in one process) and decompose it
site by site.

Each rank rasterises and holds only its shard; gradients are all-reduced every
step. With --ensemble K the ranks split into min(K, ranks) groups that train
the members. Rank 0 writes the members, metrics.jsonl, the decomposition tables
and the plots into --run-dir.

USAGE: sitelens train [<options>] [<input>]

ARGUMENTS:
  <input>                 Input file: extxyz (.xyz/.extxyz) or a site table
                          (.csv).

IMAGES (RYCZKO; --DEPTH ALSO FOR ATOMIC PATCHES):
  --grid <grid>           Pixels per side. (default: 256)
  --extent <extent>       Å from the first to the last pixel centre, or auto:
                          the box of every atom in the data with a margin of 3
                          σ (default: the seed's 5 Å; ryczko: auto).
  --spacing <spacing>     Å between pixel centres (instead of --extent).
  --sigma <sigma>         Gaussian width σ, Å. (default: 0.2)
  --centre <centre>       Grid placement: origin (first pixel at 0, as the
                          seed) or structure (centred on it). (values: origin,
                          structure; default: origin)
  --depth <depth>         z-slices: 1 projects along z (2D); more gives that
                          many as channels (3D); auto: 1, or for atomic patches
                          the fewest that part atoms stacked in z (slabs).
                          (values: auto, 1, N; default: auto)
  --channels <channels>   Channels: single (every atom weight 1), species (one
                          per species), descriptor (weighted by --descriptor);
                          auto: single, or species where atoms stacked in z
                          would merge in whole 2-D images. (values: auto,
                          single, species, descriptor; default: auto)
  --species <species>     Species for --channels species, comma-separated
                          (default: those in the data).
  --descriptor <descriptor>
                          Element descriptor weighting --channels descriptor:
                          Z, group, period, covalent_radius, electronegativity.
                          (default: electronegativity)
  --cutoff <cutoff>       Gaussian cutoff in σ (at least 4). (default: 5.0)

OPTIONS:
  --format <format>       Input format. (values: auto, extxyz, sites; default:
                          auto)
  --group <group>         Keep only site-table rows with COLUMN=VALUE, e.g.
                          Adsorbate=COOH.
  --target <target>       Site-table column holding the target energy (default:
                          Eads).
  --sites <sites>         Site-table site columns, comma-separated, in template
                          order (default: all but target and group).
  --skip-invalid          Skip invalid site-table rows and report them, instead
                          of stopping at the first.
  --energy-key <energy-key>
                          extxyz comment key holding the energy (default:
                          energy).
  --nn-distance <nn-distance>
                          Nearest-neighbour distance of the fcc(111) site
                          template, Å (default: 2.5).
  --adsorbate-height <adsorbate-height>
                          Height of the adsorbate marker above the centre site,
                          Å (default: 1.9).
  --site-rule <site-rule> extxyz site labels: column (the 'site' column),
                          adsorbate-shells (binding, shell1, subsurface around
                          the adsorbate), species (default: column). (values:
                          column, adsorbate-shells, species)
  --model <model>         Model: sites (seed A's site network), ryczko (seed
                          B's image CNN), atomic (per-atom patches, exact
                          contributions). (values: sites, ryczko, atomic;
                          default: sites)
  --epochs <epochs>       Epochs (default: 100; sites 3000, atomic radial 3000).
  --batch-size <batch-size>
                          Global batch size (samples per optimiser step, over
                          all ranks of a group). (default: 32)
  --learning-rate <learning-rate>
                          Learning rate (default: 0.001; atomic radial 0.0001).
  --optimizer <optimizer> Optimiser: adam (Keras defaults) or sgd. (values:
                          adam, sgd; default: adam)
  --seed <seed>           Seed of every random choice (weights, split, order);
                          members derive theirs from it. (default: 0)
  --validation-fraction <validation-fraction>
                          Share of the structures each member holds out for
                          validation. (default: 0.15)
  --test-fraction <test-fraction>
                          Share of the structures held out from every member:
                          the ensemble's test set. (default: 0.1)
  --ensemble <ensemble>   Ensemble members. (default: 1)
  --run-dir <run-dir>     Folder for models, metrics, tables and plots; must be
                          new or empty (default: the --resume folder, else
                          sitelens-run).
  --overwrite             Replace the SiteLens run in --run-dir once the new
                          run has finished (a failed run leaves the old one
                          whole); refuses a folder holding anything else.
  --checkpoint-every <checkpoint-every>
                          Write a checkpoint every N epochs (0: never).
                          (default: 0)
  --checksum-every <checksum-every>
                          Compare parameter checksums across ranks every N
                          steps. (default: 50)
  --print-every <print-every>
                          Print a progress line every N epochs. (default: 1)
  --resume <resume>       Continue the run in this folder from its checkpoints;
                          data, seed, model, optimiser and ensemble must match.
  --config <config>       Options from a JSON file, keyed by the flags' names
                          without dashes, e.g. {"model": "ryczko", "epochs":
                          50}; flags given here win over it.
  --keep <keep>           Weights each member's model keeps: best (the epoch of
                          lowest validation error; the last without a
                          validation set) or last. (values: best, last;
                          default: best)
  --patience <patience>   Stop a member after N epochs without a lower
                          validation error (0: never). (default: 0)
  --lr-schedule <lr-schedule>
                          Learning rate by epoch: constant; step (times
                          --lr-factor every --lr-step-epochs); cosine (from
                          --learning-rate down to --lr-min over --epochs);
                          plateau (times --lr-factor after --lr-patience epochs
                          without a lower validation error). (values: constant,
                          step, cosine, plateau; default: constant)
  --lr-step-epochs <lr-step-epochs>
                          step: epochs between reductions (default 10).
  --lr-factor <lr-factor> step, plateau: factor in (0, 1) of each reduction
                          (default 0.5).
  --lr-min <lr-min>       step, cosine, plateau: the lowest learning rate
                          (default 0).
  --lr-patience <lr-patience>
                          plateau: epochs without a lower validation error
                          before a reduction (default 5).
  --bootstrap <bootstrap> Bagging: on trains each member on its own resample
                          (with replacement) of its training structures.
                          (values: on, off; default: off)
  --validation-split <validation-split>
                          shared: all members hold out one validation set, on
                          which the 95 % interval (lo95, hi95) is calibrated;
                          per-member: each its own (the interval then rarely
                          calibrates). (values: shared, per-member; default:
                          shared)
  --hidden <hidden>       sites: hidden width. (default: 6)
  --descriptor-names <descriptor-names>
                          sites: element descriptors, comma-separated (Z,
                          group, period, covalent_radius, electronegativity).
                          (default: group,period,electronegativity)
  --descriptor-file <descriptor-file>
                          sites: a CSV of descriptor values ('symbol,NAME,...')
                          that replaces the looked-up ones.
  --patch-shape <patch-shape>
                          atomic: square (2-D image patches, a small CNN) or
                          radial (Gaussians on a grid of distances,
                          rotation-invariant; --patch-size bins --patch-spacing
                          Δr apart). (values: square, radial; default: square)
  --patch-size <patch-size>
                          atomic: patch size in pixels (square) or distance
                          bins (radial) (default: square 17, radial 226).
  --patch-spacing <patch-spacing>
                          atomic: patch pixel spacing (square) or bin spacing
                          Δr (radial), Å (default: square 0.35, radial 0.02).
  --patch-sigma <patch-sigma>
                          atomic: Gaussian width in patches, Å (default: square
                          0.4, radial 0.02).
  --filters <filters>     atomic: filters of the shared CNN (square patches).
                          (default: 8)
  --atomic-hidden <atomic-hidden>
                          atomic: hidden width of the shared CNN's dense layer
                          (square patches). (default: 16)
  --radial-hidden <radial-hidden>
                          atomic: hidden width of the radial patches' network
                          (0: linear, Flatten → Dense(1)). (default: 0)
  --interaction-range <interaction-range>
                          atomic: Å over which atoms interact, for the
                          patch-reach warning (default: 2 × the median
                          nearest-neighbour distance).
  --blocks <blocks>       ryczko: number of [Conv16, Conv16, Conv64/2] blocks
                          (seed: 6). (default: 6)
  --dense <dense>         ryczko: width of the dense layer (seed: 1024).
                          (default: 1024)
  --image-cache <image-cache>
                          Keep each rank's rasterised shard in memory (always),
                          rasterise each step's samples on the fly (never), or
                          decide by --memory-budget (auto). (values: auto,
                          always, never; default: auto)
  --memory-budget <memory-budget>
                          Memory a rank may spend on cached samples, e.g. 2G or
                          500M (default: half the node's memory over the ranks
                          on it).
  --init <init>           Weights: he (He-uniform for ReLU layers, Glorot
                          elsewhere), glorot (Keras's default everywhere) or
                          lsuv (He, then each layer scaled to unit variance on
                          a batch of the member's training data) (default: he;
                          ryczko lsuv). (values: he, glorot, lsuv)
  --blas-threads <blas-threads>
                          BLAS and oneDNN threads per rank (default: 1 under
                          mpirun with several ranks, else all cores).
  --conv-backend <conv-backend>
                          Convolutions by dnnl (oneDNN) or im2col (OpenBLAS
                          GEMMs, the reference). (values: dnnl, im2col;
                          default: dnnl)
  --precision <precision> Number format of the convolutions: fp32, or bf16
                          (bf16 inputs, Float sums, Float weights and files;
                          dnnl backend on a CPU with AVX512_BF16 or AMX).
                          (values: fp32, bf16; default: fp32)
  --reproducible          One sample at a time with Double gradient sums:
                          bit-identical for any rank count, slower.
  --gradient-precision <gradient-precision>
                          Precision the gradient sum crosses ranks in: double,
                          float (half the bytes) or bf16 (a quarter, rounded to
                          nearest even); --reproducible needs double. (values:
                          double, float, bf16; default: double)
  --stall-timeout <stall-timeout>
                          Seconds without a finished training step after which
                          a rank says where it waits (a rank or node that
                          stopped answering), and twice that after which the
                          job ends; 0: wait forever. (default: 600.0)
  --version               Show the version.
  -h, --help              Show help information.
"""#
}
